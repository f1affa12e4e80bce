import type { Knex } from '@galion/kit';
import { USERS_PER_BLOCK } from './active-users.js';

/** The platform event a deletion leaves: it holds no personal data beyond the pseudonymous id, and counts deletions. */
export const KEPT_EVENT_TYPE = 'user.deleted';

export interface ErasureCounts {
  platformEvents: number;
  appEvents: number;
  /** Activity bitmap rows the user's bit was cleared from. */
  activityRows: number;
}

/** Subtracts the erased rows from an hourly count table: `gone` is a CTE of the deleted rows. */
const subtractCounts = (table: string, keys: string[]) => `
  UPDATE ${table} AS c SET count = c.count - g.n
    FROM (SELECT date_trunc('hour', event_time, 'UTC') AS bucket, ${keys.join(', ')}, count(*) AS n FROM gone GROUP BY ${['1', ...keys.map((_, i) => String(i + 2))].join(', ')}) AS g
   WHERE c.bucket = g.bucket ${keys.map((key) => `AND c.${key} = g.${key}`).join(' ')}`;

/**
 * Clears the bits of the `erased` users (a CTE of user_id, block, bit) from an activity bitmap
 * table, except in the buckets of their `kept` events (a CTE of user_id, event_time): one mask per
 * row for all the users of the row's block, so each row is rewritten once. Returns, per row, how
 * many users' bits it lost (n).
 */
const clearBits = (table: string, unit: 'hour' | 'day') => `
  UPDATE ${table} AS a SET users = a.users & ~m.mask
    FROM (
      SELECT r.bucket, r.block, bit_or(set_bit(0::bit(${USERS_PER_BLOCK}), e.bit, 1)) AS mask, count(*) AS n
        FROM ${table} AS r JOIN erased AS e ON r.block = e.block AND get_bit(r.users, e.bit) = 1
       WHERE NOT EXISTS (SELECT 1 FROM kept AS k WHERE k.user_id = e.user_id AND date_trunc('${unit}', k.event_time, 'UTC') = r.bucket)
       GROUP BY r.bucket, r.block
    ) AS m
   WHERE a.bucket = m.bucket AND a.block = m.block
  RETURNING m.n`;

/** The right to erasure: a deleted user's events, their share of the rollups, and the list of erased users. */
export class ErasureRepository {
  constructor(private readonly knex: Knex) {}

  /** Of these users, those whose events were erased. */
  async erasedAmong(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.knex.raw<{ rows: { user_id: string }[] }>(
      'SELECT user_id FROM erased_users WHERE user_id = ANY(?::text[])',
      [[...new Set(userIds)]],
    );
    return new Set(rows.map((row) => row.user_id));
  }

  /**
   * For all these users at once, in the caller's transaction `trx` (the consumer's batch: its
   * events and its deletions commit together, in four statements however many deletions there
   * are): record them as erased (so late events of theirs are not stored), delete their platform
   * events but the deletions themselves and all their application events, subtract those from the
   * hourly counts, and clear their bits from the activity bitmaps except in the hours and days of
   * the kept events. Idempotent: a second run finds nothing to erase.
   */
  async erase(userIds: string[], trx: Knex.Transaction): Promise<ErasureCounts> {
    const users = [...new Set(userIds)].sort();
    if (users.length === 0) return { platformEvents: 0, appEvents: 0, activityRows: 0 };
    // In key order, so two batches erasing overlapping users lock them in the same order.
    await trx.raw('INSERT INTO erased_users (user_id) SELECT unnest(?::text[]) ORDER BY 1 ON CONFLICT DO NOTHING', [users]);
    const platform = await trx.raw<{ rows: { n: string }[] }>(
      `WITH gone AS (DELETE FROM events WHERE user_id = ANY(?::text[]) AND event_type <> ? RETURNING event_time, event_type),
       counted AS (${subtractCounts('event_counts_hourly', ['event_type'])})
       SELECT count(*) AS n FROM gone`,
      [users, KEPT_EVENT_TYPE],
    );
    const app = await trx.raw<{ rows: { n: string }[] }>(
      `WITH gone AS (DELETE FROM app_events WHERE user_id = ANY(?::text[]) RETURNING event_time, site, name),
       counted AS (${subtractCounts('app_event_counts_hourly', ['site', 'name'])})
       SELECT count(*) AS n FROM gone`,
      [users],
    );
    const bitmaps = await trx.raw<{ rows: { hourly: string; daily: string }[] }>(
      `WITH erased AS (
         SELECT user_id, idx / ${USERS_PER_BLOCK} AS block, idx % ${USERS_PER_BLOCK} AS bit FROM user_ids WHERE user_id = ANY(?::text[])
       ), kept AS (
         SELECT DISTINCT user_id, event_time FROM events WHERE user_id = ANY(?::text[])
       ), hourly AS (${clearBits('active_users_hourly', 'hour')}
       ), daily AS (${clearBits('active_users_daily', 'day')}
       )
       SELECT (SELECT coalesce(sum(n), 0) FROM hourly) AS hourly, (SELECT coalesce(sum(n), 0) FROM daily) AS daily`,
      [users, users],
    );
    const cleared = bitmaps.rows[0];
    return {
      platformEvents: Number(platform.rows[0]?.n ?? 0),
      appEvents: Number(app.rows[0]?.n ?? 0),
      activityRows: Number(cleared?.hourly ?? 0) + Number(cleared?.daily ?? 0),
    };
  }
}
