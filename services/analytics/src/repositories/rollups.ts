import type { Knex } from '@galion/kit';
import type { TimeRange } from './events.js';

/** The hourly counts per event type. */
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

  /** Deletes the hourly counts before `cutoff`. */
  async pruneBefore(cutoff: Date): Promise<number> {
    return this.knex('event_counts_hourly').where('bucket', '<', cutoff).delete();
  }
}
