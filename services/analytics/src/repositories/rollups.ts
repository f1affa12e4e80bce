import type { Knex } from '@galion/kit';
import { isoDay, monthMasks, monthStart } from '../domain/time.js';
import { RANGE_SELECT, type TimeRange } from './events.js';

/** The rollup tables: hourly counts per type and monthly per-user activity bitmaps. */
export class RollupRepository {
  constructor(private readonly knex: Knex) {}

  /** Events per type over whole hours [from, to). */
  async countByType(range: TimeRange): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (range.to <= range.from) return counts;
    const rows = (await this.knex('event_counts_hourly')
      .select('event_type')
      .sum({ count: 'count' })
      .where('bucket', '>=', range.from)
      .andWhere('bucket', '<', range.to)
      .groupBy('event_type')) as { event_type: string; count: number | string }[];
    for (const row of rows) counts.set(row.event_type, Number(row.count));
    return counts;
  }

  /** The first and last hour with events in [from, to). */
  async hourBounds(range: TimeRange): Promise<{ first: Date | null; last: Date | null }> {
    const row = (await this.knex('event_counts_hourly')
      .min({ first: 'bucket' })
      .max({ last: 'bucket' })
      .where('bucket', '>=', range.from)
      .andWhere('bucket', '<', range.to)
      .andWhere('count', '>', 0)
      .first()) as { first: Date | null; last: Date | null } | undefined;
    return { first: row?.first ?? null, last: row?.last ?? null };
  }

  /**
   * Event counts per bucket of `stride` (an interval such as '1 hour' or '1 day', aligned to UTC
   * midnight) over whole buckets [from, to). Buckets without events are absent.
   */
  async countPerBucket(range: TimeRange, stride: '1 hour' | '1 day', type?: string): Promise<Map<number, number>> {
    const { rows } = await this.knex.raw<{ rows: { bucket: Date; count: number | string }[] }>(
      `SELECT date_bin(?::interval, bucket, 'epoch'::timestamptz) AS bucket, sum(count)::bigint AS count
         FROM event_counts_hourly
        WHERE bucket >= ? AND bucket < ? ${type ? 'AND event_type = ?' : ''}
        GROUP BY 1`,
      [stride, range.from, range.to, ...(type ? [type] : [])],
    );
    return new Map(rows.map((row) => [row.bucket.getTime(), Number(row.count)]));
  }

  /**
   * Distinct users with at least one event in the whole hours [from, to) (from the activity
   * bitmaps) or in the `raw` ranges (from raw events: the partial hours at the edges of a query).
   */
  async distinctUsers(wholeHours: TimeRange, raw: TimeRange[]): Promise<number> {
    const masks = wholeHours.to > wholeHours.from ? monthMasks(wholeHours.from, wholeHours.to) : [];
    const parts: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    if (masks.length > 0) {
      parts.push(`SELECT a.user_id FROM user_activity a
          JOIN unnest(?::date[], ?::bit(744)[]) AS m(month, mask) ON a.month = m.month
         WHERE bit_count(a.hours & m.mask) > 0`);
      bindings.push(
        masks.map((mask) => mask.month),
        masks.map((mask) => mask.mask),
      );
    }
    for (const range of raw) {
      parts.push(RANGE_SELECT('user_id'));
      bindings.push(range.from, range.to);
    }
    if (parts.length === 0) return 0;
    const { rows } = await this.knex.raw<{ rows: { users: number | string }[] }>(
      `SELECT count(*)::bigint AS users FROM (SELECT user_id FROM (${parts.join(' UNION ALL ')}) AS p GROUP BY user_id) AS u`,
      bindings,
    );
    return Number(rows[0]?.users ?? 0);
  }

  /** Deletes rollups older than `cutoff` (hourly counts by hour, activity by whole month). */
  async pruneBefore(cutoff: Date): Promise<{ hours: number; months: number }> {
    const hours = await this.knex('event_counts_hourly').where('bucket', '<', cutoff).delete();
    const months = await this.knex('user_activity')
      .where('month', '<', isoDay(monthStart(cutoff)))
      .delete();
    return { hours, months };
  }
}
