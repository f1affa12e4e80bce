import { createDatabase } from '@galion/kit';
import { testDatabase } from '@galion/localdeps';
import { generateSyntheticHistory } from '../src/synthetic-data';

describe('synthetic history (the benchmark data)', () => {
  it('when a history is generated, then its rollups agree with its raw events, as if the consumer had built them', async () => {
    const database = await testDatabase('analytics_synthetic');
    const knex = createDatabase({ url: database.url, poolMax: 2 });
    try {
      await generateSyntheticHistory(knex, { events: 30_000, days: 3, users: 9_000, end: new Date('2026-05-04T10:17:00Z') });
      const raw = await knex.raw(`
        SELECT date_trunc('hour', event_time, 'UTC') AS bucket, event_type, count(*)::int AS count
          FROM events GROUP BY 1, 2 ORDER BY 1, 2`);
      const rolled = await knex.raw('SELECT bucket, event_type, count::int AS count FROM event_counts_hourly ORDER BY 1, 2');
      expect(rolled.rows).toEqual(raw.rows);
      expect(raw.rows.length).toBeGreaterThan(3 * 24 * 4);

      // Users active per hour and per day, from raw events and from the bitmaps.
      for (const [table, unit] of [
        ['active_users_hourly', 'hour'],
        ['active_users_daily', 'day'],
      ]) {
        const fromRaw = await knex.raw(
          `SELECT date_trunc(?, event_time, 'UTC') AS bucket, count(DISTINCT user_id)::int AS users FROM events GROUP BY 1 ORDER BY 1`,
          [unit],
        );
        const fromBitmaps = await knex.raw(`SELECT bucket, sum(bit_count(users))::int AS users FROM ?? GROUP BY 1 ORDER BY 1`, [table]);
        expect(fromBitmaps.rows).toEqual(fromRaw.rows);
      }
      const types = await knex.raw('SELECT count(DISTINCT event_type)::int AS n FROM events');
      expect(types.rows[0].n).toBe(8);
      // A user's events span several types.
      const perUser = await knex.raw("SELECT count(DISTINCT event_type)::int AS n FROM events WHERE user_id = 'user-42'");
      expect(perUser.rows[0].n).toBeGreaterThan(1);
    } finally {
      await knex.destroy();
      await database.drop();
    }
  });
});
