import type { CursorShape } from '@galion/pagination';

// A timestamptz as PostgreSQL renders it as text. A cursor whose sort value is not one is refused
// (400 invalid_cursor) rather than failing the timestamp cast in SQL (a 500): a cursor of the name
// or email order reused with sort=created_at, say.
const DATABASE_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?([+-](0\d|1[0-4])(:?[0-5]\d)?|Z)?$/;

export const isDatabaseTimestamp = (value: string): boolean => {
  const match = DATABASE_TIMESTAMP.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
};

/** An order by one timestamp, then id: the cursor's one sort value must be a timestamp. */
export const timestampOrder: CursorShape = { values: 1, accepts: ([value]) => isDatabaseTimestamp(value!) };
