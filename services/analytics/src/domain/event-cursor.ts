import { decodeCursor, encodeCursor, type CursorShape, type KeysetPosition } from '@galion/pagination';
import type { Position } from '../repositories/events.js';

// The event time with microseconds as PostgreSQL renders it, so a position round-trips exactly.
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The newest-first order of events sorts by event time, then id. */
const EVENT_ORDER: CursorShape = {
  values: 1,
  accepts: ([time]) => time !== undefined && TIME_PATTERN.test(time) && !Number.isNaN(Date.parse(time)),
};

export const toKeysetPosition = (position: Position): KeysetPosition => ({ values: [position.time], id: position.id });

/** The cursor for a position in the newest-first order of events. */
export const encodeEventCursor = (position: Position): string => encodeCursor(toKeysetPosition(position));

export const decodeEventCursor = (cursor: string): Position => {
  const { values, id } = decodeCursor(cursor, EVENT_ORDER);
  return { time: values[0]!, id };
};
