import { decodeCursor, type KeysetPosition } from '@galion/pagination';

/**
 * The cursor of "my images", newest first by (created_at, id). It names its order, so a cursor
 * of another list (or service) is `400 invalid_cursor`, not a page of the wrong list.
 */
const ORDER = 'media';

// A time as the repository renders it: UTC with microseconds.
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const isTime = (value: string | undefined): value is string =>
  value !== undefined && TIME_PATTERN.test(value) && !Number.isNaN(Date.parse(value));

export const mediaPosition = (time: string, id: string): KeysetPosition => ({ values: [ORDER, time], id });

/** The (time, id) a cursor holds; `400 invalid_cursor` for anything else. */
export const decodeMediaCursor = (cursor: string): { time: string; id: string } => {
  const { values, id } = decodeCursor(cursor, { values: 2, accepts: ([kind, time]) => kind === ORDER && isTime(time) });
  return { time: values[1]!, id };
};
