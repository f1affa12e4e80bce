import { encodeCursor, type KeysetPosition } from './cursor.js';

export interface KeysetPage<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** Rows to read for a page of `limit`: one more, which only tells whether a next page exists. */
export const rowsToRead = (limit: number): number => limit + 1;

/** The page of `limit` rows out of those read with `rowsToRead(limit)`, and the cursor after its last row. */
export const keysetPage = <T>(rows: readonly T[], limit: number, positionOf: (row: T, index: number) => KeysetPosition): KeysetPage<T> => {
  const items = rows.slice(0, limit);
  const last = items.length - 1;
  return { items, nextCursor: rows.length > limit && last >= 0 ? encodeCursor(positionOf(items[last]!, last)) : null };
};
