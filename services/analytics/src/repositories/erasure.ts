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

/** The right to erasure: a deleted user's events, their share of the rollups, and the list of erased users. */
export class ErasureRepository {
  constructor(private readonly knex: Knex) {}

  /** Of these users, those whose events were erased. */
  async erasedAmong(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.knex.raw<{ rows: { user_id: string }[] }>('SELECT user_id FROM erased_users WHERE user_id = ANY(?::text[])', [
      [...new Set(userIds)],
    ]);
    return new Set(rows.map((row) => row.user_id));
  }

  /**
   * In one transaction: record the user as erased (so late events of theirs are not stored),
   * delete their platform events but the deletion itself and all their application events,
   * subtract those from the hourly counts, and clear their bit from the activity bitmaps except
   * in the hour and day of the kept event. Idempotent: a second run finds nothing to erase.
   */
  async erase(userId: string): Promise<ErasureCounts> {
    return this.knex.transaction(async (trx) => {
      await trx.raw('INSERT INTO erased_users (user_id) VALUES (?) ON CONFLICT DO NOTHING', [userId]);
      const platform = await trx.raw<{ rows: { n: string }[] }>(
        `WITH gone AS (DELETE FROM events WHERE user_id = ? AND event_type <> ? RETURNING event_time, event_type),
         counted AS (${subtractCounts('event_counts_hourly', ['event_type'])})
         SELECT count(*) AS n FROM gone`,
        [userId, KEPT_EVENT_TYPE],
      );
      const app = await trx.raw<{ rows: { n: string }[] }>(
        `WITH gone AS (DELETE FROM app_events WHERE user_id = ? RETURNING event_time, site, name),
         counted AS (${subtractCounts('app_event_counts_hourly', ['site', 'name'])})
         SELECT count(*) AS n FROM gone`,
        [userId],
      );
      let activityRows = 0;
      const number = (await trx('user_ids').select('idx').where({ user_id: userId }).first()) as { idx: number } | undefined;
      if (number) {
        const block = Math.floor(number.idx / USERS_PER_BLOCK);
        const bit = number.idx % USERS_PER_BLOCK;
        for (const [table, unit] of [
          ['active_users_hourly', 'hour'],
          ['active_users_daily', 'day'],
        ] as const) {
          const { rowCount } = await trx.raw<{ rowCount: number }>(
            `UPDATE ${table} SET users = set_bit(users, ?, 0)
              WHERE block = ? AND get_bit(users, ?) = 1
                AND bucket NOT IN (SELECT date_trunc('${unit}', event_time, 'UTC') FROM events WHERE user_id = ?)`,
            [bit, block, bit, userId],
          );
          activityRows += rowCount;
        }
      }
      return { platformEvents: Number(platform.rows[0]?.n ?? 0), appEvents: Number(app.rows[0]?.n ?? 0), activityRows };
    });
  }
}
