import { badRequest } from '@galion/kit';

/**
 * Where a page ended in an order by (sort values…, id): the sort values of its last row as the
 * database renders them as text (so a timestamp keeps its microseconds), and the row's id.
 */
export interface KeysetPosition {
  values: string[];
  id: string;
}

/** What a service's order takes, checked on every cursor it is given back. */
export interface CursorShape {
  /** Sort values a position holds: one per column of the order before the id. */
  values: number;
  /** Further checks of the values (a timestamp's format, say), so SQL never sees one it cannot cast. */
  accepts?: (values: readonly string[]) => boolean;
}

/** Changed with the payload's layout, so a cursor of another layout is refused rather than misread. */
export const CURSOR_VERSION = 1;

/** Longest cursor given out or taken back; the services' schemas bound sort values well below it. */
export const MAX_CURSOR_LENGTH = 1_024;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Payload {
  v: number;
  s: string[];
  id: string;
}

export const invalidCursor = () =>
  badRequest('invalid_cursor', 'The cursor is not one this API gave out; pass the next_cursor of a previous page unchanged.');

/** An opaque, URL-safe cursor: base64url of versioned JSON. */
export const encodeCursor = (position: KeysetPosition): string => {
  const payload: Payload = { v: CURSOR_VERSION, s: position.values, id: position.id };
  const cursor = Buffer.from(JSON.stringify(payload)).toString('base64url');
  // Given out, it could never be taken back: a bug to surface here, not a 400 on the next page.
  if (cursor.length > MAX_CURSOR_LENGTH) throw new Error(`a cursor of ${cursor.length} characters exceeds ${MAX_CURSOR_LENGTH}`);
  return cursor;
};

const isPayload = (value: unknown, shape: CursorShape): value is Payload => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { v, s, id, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    v === CURSOR_VERSION &&
    Array.isArray(s) &&
    s.length === shape.values &&
    // NUL is the one character PostgreSQL text cannot hold: refused here rather than failing the query.
    s.every((item) => typeof item === 'string' && !item.includes('\u0000')) &&
    typeof id === 'string' &&
    UUID.test(id) &&
    (shape.accepts?.(s as string[]) ?? true)
  );
};

/** The position of a cursor `encodeCursor` gave out; anything else is `400 invalid_cursor`. */
export const decodeCursor = (cursor: string, shape: CursorShape): KeysetPosition => {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalidCursor();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isPayload(payload, shape)) throw invalidCursor();
  return { values: payload.s, id: payload.id };
};
