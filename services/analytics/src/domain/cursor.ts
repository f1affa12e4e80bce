import { badRequest } from '@galion/kit';
import { UUID_PATTERN } from '@galion/events';
import type { Position } from '../repositories/events.js';

// The event time with microseconds as PostgreSQL renders it, so a position round-trips exactly.
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const VERSION = 'v1';

/** An opaque, URL-safe cursor for a position in the newest-first order of events. */
export const encodeCursor = (position: Position): string => Buffer.from(`${VERSION}|${position.time}|${position.id}`).toString('base64url');

const invalidCursor = () => badRequest('invalid_cursor', 'The cursor is not valid; pass the next_cursor of a previous page unchanged.');

export const decodeCursor = (cursor: string): Position => {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalidCursor();
  const [version, time, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== VERSION || rest.length > 0 || !time || !id || !TIME_PATTERN.test(time) || !UUID_PATTERN.test(id)) {
    throw invalidCursor();
  }
  if (Number.isNaN(Date.parse(time))) throw invalidCursor();
  return { time, id };
};
