import type { Knex } from '@galion/kit';
import { ceilDay, DAY_MS, floorDay, HOUR_MS } from '../time.js';
import { RANGE_SELECT, type BitmapRows, type TimeRange } from './events.js';

/** Users per bitmap block: 8192 bits, 1 KB, small enough to be stored inline and rewritten cheaply. */
export const USERS_PER_BLOCK = 8192;

/** An event's time and its user's number. */
export interface UserHit {
  /** Event time, ms since the epoch. */
  time: number;
  idx: number;
}

/**
 * The activity bitmaps of a batch: for each hour (and day) and block of users, the users of the
 * batch active then. Rows come out in key order.
 */
export const activityBitmaps = (hits: UserHit[]): { hourly: BitmapRows; daily: BitmapRows } => {
  const build = (unitMs: number): BitmapRows => {
    const buckets = new Map<number, Map<number, Uint8Array>>();
    for (const { time, idx } of hits) {
      const bucket = Math.floor(time / unitMs) * unitMs;
      const block = Math.floor(idx / USERS_PER_BLOCK);
      let blocks = buckets.get(bucket);
      if (!blocks) buckets.set(bucket, (blocks = new Map()));
      let bits = blocks.get(block);
      if (!bits) blocks.set(block, (bits = new Uint8Array(USERS_PER_BLOCK / 8)));
      const bit = idx % USERS_PER_BLOCK;
      // Bit 0 is the leftmost bit of a PostgreSQL bit string: the high bit of the first byte.
      bits[bit >> 3]! |= 0x80 >> (bit & 7);
    }
    const rows: BitmapRows = { buckets: [], blocks: [], bits: [] };
    for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
      const blocks = buckets.get(bucket)!;
      const iso = new Date(bucket).toISOString();
      for (const block of [...blocks.keys()].sort((a, b) => a - b)) {
        rows.buckets.push(iso);
        rows.blocks.push(block);
        rows.bits.push(Buffer.from(blocks.get(block)!).toString('hex'));
      }
    }
    return rows;
  };
  return { hourly: build(HOUR_MS), daily: build(DAY_MS) };
};

/** Splits whole hours [from, to) into whole days and the hours left at either end. */
export const daysAndHours = (range: TimeRange): { days: TimeRange | undefined; hours: TimeRange[] } => {
  if (range.to <= range.from) return { days: undefined, hours: [] };
  const firstDay = ceilDay(range.from);
  const lastDay = floorDay(range.to);
  if (firstDay >= lastDay) return { days: undefined, hours: [range] };
  const hours: TimeRange[] = [];
  if (range.from < firstDay) hours.push({ from: range.from, to: firstDay });
  if (lastDay < range.to) hours.push({ from: lastDay, to: range.to });
  return { days: { from: firstDay, to: lastDay }, hours };
};

const NO_BITMAPS = 'SELECT NULL::integer AS block, NULL::bit(8192) AS users WHERE false';
const NO_USERS = 'SELECT NULL::integer AS idx WHERE false';

/**
 * Who was active when: a dense number per user (user_ids) and, per UTC hour and per UTC day, a
 * bitmap of the users with at least one event, in blocks of 8192 users.
 */
export class ActiveUserRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * The numbers of these users, numbering those seen for the first time. New users are added in a
   * fixed order, so concurrent batches lock them in the same order.
   */
  async numbers(userIds: string[], db: Knex = this.knex): Promise<Map<string, number>> {
    const users = [...new Set(userIds)].sort();
    const numbers = new Map<string, number>();
    if (users.length === 0) return numbers;
    const { rows } = await db.raw<{ rows: { user_id: string; idx: number }[] }>(
      `WITH added AS (
         INSERT INTO user_ids (user_id) SELECT user_id FROM unnest(?::text[]) AS u(user_id) ORDER BY 1
         ON CONFLICT DO NOTHING RETURNING user_id, idx
       )
       SELECT user_id, idx FROM added UNION ALL SELECT user_id, idx FROM user_ids WHERE user_id = ANY(?::text[])`,
      [users, users],
    );
    for (const row of rows) numbers.set(row.user_id, row.idx);
    // A user added by a concurrent batch that committed after this statement began is in neither
    // part: a new statement sees it.
    const missing = users.filter((user) => !numbers.has(user));
    if (missing.length > 0) {
      const again = await db('user_ids').select('user_id', 'idx').whereIn('user_id', missing);
      for (const row of again as { user_id: string; idx: number }[]) numbers.set(row.user_id, row.idx);
    }
    return numbers;
  }

  /**
   * Distinct users with at least one event in the whole hours `whole` (from the bitmaps: whole
   * days from the daily ones, the hours left from the hourly ones) or in the `raw` ranges (from
   * the raw events: the partial hours at the edges of a query).
   */
  async distinctUsers(whole: TimeRange, raw: TimeRange[]): Promise<number> {
    const { days, hours } = daysAndHours(whole);
    const bitmapParts: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    if (days) {
      bitmapParts.push('SELECT block, users FROM active_users_daily WHERE bucket >= ? AND bucket < ?');
      bindings.push(days.from, days.to);
    }
    for (const range of hours) {
      bitmapParts.push('SELECT block, users FROM active_users_hourly WHERE bucket >= ? AND bucket < ?');
      bindings.push(range.from, range.to);
    }
    const rawParts = raw.map(() => RANGE_SELECT('user_idx AS idx'));
    for (const range of raw) bindings.push(range.from, range.to);
    if (bitmapParts.length === 0 && rawParts.length === 0) return 0;
    const { rows } = await this.knex.raw<{ rows: { users: number | string }[] }>(
      `WITH bitmaps AS (
         SELECT block, bit_or(users) AS users FROM (${bitmapParts.join(' UNION ALL ') || NO_BITMAPS}) AS b GROUP BY block
       ), raw AS (
         SELECT DISTINCT idx FROM (${rawParts.join(' UNION ALL ') || NO_USERS}) AS r
       )
       SELECT (SELECT coalesce(sum(bit_count(users)), 0) FROM bitmaps)
            + (SELECT count(*) FROM raw LEFT JOIN bitmaps b ON b.block = raw.idx / ${USERS_PER_BLOCK}
                WHERE b.users IS NULL OR get_bit(b.users, raw.idx % ${USERS_PER_BLOCK}) = 0) AS users`,
      bindings,
    );
    return Number(rows[0]?.users ?? 0);
  }

  /** Deletes the activity bitmaps of hours and days before `cutoff`. */
  async pruneBefore(cutoff: Date): Promise<number> {
    const hours = await this.knex('active_users_hourly').where('bucket', '<', cutoff).delete();
    const days = await this.knex('active_users_daily').where('bucket', '<', floorDay(cutoff)).delete();
    return hours + days;
  }
}
