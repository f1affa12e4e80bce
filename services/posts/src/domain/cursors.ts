import { createHash } from 'node:crypto';
import { decodeCursor, invalidCursor, type CursorShape, type KeysetPosition } from '@galion/pagination';

/**
 * The cursors of posts' lists. Each names its order first, so the cursor of one list handed to
 * another is `400 invalid_cursor`, not a page of the wrong list:
 * - `published`: the public list, newest first by (published_at, id);
 * - `created`: an author's own posts, newest first by (created_at, id);
 * - `comments`: a post's comments, oldest first by (created_at, id);
 * - `search`: a search's hits, best first by (rank, id), with a fingerprint of the query, so a
 *   cursor of one search is refused by another.
 */
export type TimeOrder = 'published' | 'created' | 'comments';

// A time as the repositories render it: UTC with microseconds.
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const isTime = (value: string | undefined): value is string =>
  value !== undefined && TIME_PATTERN.test(value) && !Number.isNaN(Date.parse(value));
// A real as PostgreSQL prints it (shortest exact form): 0.1, 1.2e-05, 3.
const RANK_PATTERN = /^\d+(\.\d+)?(e[+-]\d+)?$/;

const timeShape = (order: TimeOrder): CursorShape => ({ values: 2, accepts: ([kind, time]) => kind === order && isTime(time) });

export const timePosition = (order: TimeOrder, time: string, id: string): KeysetPosition => ({ values: [order, time], id });

/** The (time, id) a cursor of `order` holds; `400 invalid_cursor` for anything else. */
export const decodeTimeCursor = (order: TimeOrder, cursor: string): { time: string; id: string } => {
  const { values, id } = decodeCursor(cursor, timeShape(order));
  return { time: values[1]!, id };
};

/** A short fingerprint of a search query, as the search cursors carry it. */
export const queryFingerprint = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 16);

export const searchPosition = (text: string, rank: string, id: string): KeysetPosition => ({
  values: ['search', rank, queryFingerprint(text)],
  id,
});

/** The (rank, id) a search cursor holds; `400 invalid_cursor` for anything else, or for a cursor of another query. */
export const decodeSearchCursor = (text: string, cursor: string): { rank: string; id: string } => {
  const { values, id } = decodeCursor(cursor, {
    values: 3,
    accepts: ([kind, rank]) => kind === 'search' && rank !== undefined && RANK_PATTERN.test(rank) && Number.isFinite(Number(rank)),
  });
  if (values[2] !== queryFingerprint(text)) throw invalidCursor();
  return { rank: values[1]!, id };
};
