import { PartitionRepository } from '../src/repositories/partitions';
import { makeEvent, rolledUpCount, startAnalytics, storedCount, type AnalyticsHarness } from './harness';

const DAY = 86_400_000;

const partitionNames = async (h: AnalyticsHarness) => (await new PartitionRepository(h.db).list()).map((partition) => partition.name);

/** In how many hours (or days) the activity bitmaps mark this user active. */
const activeIn = async (h: AnalyticsHarness, userId: string, table: 'active_users_hourly' | 'active_users_daily') => {
  const { rows } = await h.db.raw(
    `SELECT count(*)::int AS n FROM ${table} a JOIN user_ids i ON i.user_id = ? AND a.block = i.idx / 8192
      WHERE get_bit(a.users, i.idx % 8192) = 1`,
    [userId],
  );
  return rows[0].n as number;
};

describe('storing events', () => {
  let h: AnalyticsHarness;
  const now = new Date('2026-04-20T10:00:00Z');
  beforeAll(async () => {
    h = await startAnalytics({ now: () => now });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when the same event is delivered twice, then it is stored once and counted once in every rollup', async () => {
    const event = makeEvent('user.logged_in', 'twice', '2026-04-20T09:10:00Z');
    const first = await h.service.ingestor.ingest([event]);
    const again = await h.service.ingestor.ingest([event]);
    expect(first).toMatchObject({ stored: 1, duplicates: 0 });
    expect(again).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await h.db('events').where({ event_id: event.id }).count({ n: '*' }).first()).toEqual({ n: 1 });
    const summary = await h.http
      .get('/api/v1/analytics/summary')
      .query({ from: '2026-04-20', to: '2026-04-21' })
      .set('Authorization', h.admin);
    expect(summary.body).toMatchObject({ total: 1, distinct_users: 1 });
    expect(await rolledUpCount(h.db)).toBe(1);
    expect(await activeIn(h, 'twice', 'active_users_hourly')).toBe(1);
    expect(await activeIn(h, 'twice', 'active_users_daily')).toBe(1);
    expect(await h.db('user_ids').where({ user_id: 'twice' }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });

  it('when a batch holds the same event twice next to new ones, then each is stored and counted once', async () => {
    const repeated = makeEvent('user.updated', 'batchy', '2026-04-20T09:30:00Z');
    const other = makeEvent('user.updated', 'batchy', '2026-04-20T09:31:00Z');
    const before = await rolledUpCount(h.db);
    const result = await h.service.ingestor.ingest([repeated, other, repeated]);
    expect(result).toMatchObject({ stored: 2, duplicates: 1 });
    expect(await rolledUpCount(h.db)).toBe(before + 2);
  });

  it('when a new batch carries tabs, line breaks, backslashes and other scripts in its data, then every event is stored exactly as sent and counted once', async () => {
    const tricky = { ...makeEvent('user.updated', 'escapes', '2026-04-20T09:40:00Z'), data: { changes: ['name'], note: 'a\tb\nc\\d\re "q" — café 名前 \\N' } };
    const plain = makeEvent('user.logged_in', 'escapes', '2026-04-20T08:05:00Z');
    const before = await rolledUpCount(h.db);

    const result = await h.service.ingestor.ingest([tricky, plain]);

    expect(result).toMatchObject({ stored: 2, duplicates: 0 });
    const stored = await h.db('events').where({ event_id: tricky.id }).first();
    expect(stored.data).toEqual(tricky.data);
    expect(stored.user_id).toBe('escapes');
    expect(stored.event_type).toBe('user.updated');
    expect(stored.event_time.toISOString()).toBe('2026-04-20T09:40:00.000Z');
    expect(await rolledUpCount(h.db)).toBe(before + 2);
    expect(await activeIn(h, 'escapes', 'active_users_hourly')).toBe(2);
  });

  it('when a batch mixes events stored already with new ones, then only the new ones are stored and counted', async () => {
    const old = makeEvent('user.logged_in', 'mixed', '2026-04-20T07:10:00Z');
    await h.service.ingestor.ingest([old]);
    const fresh = [makeEvent('user.logged_out', 'mixed', '2026-04-20T07:20:00Z'), makeEvent('user.updated', 'mixed', '2026-04-20T09:20:00Z')];
    const before = await rolledUpCount(h.db);

    const result = await h.service.ingestor.ingest([fresh[0]!, old, fresh[1]!]);

    expect(result).toMatchObject({ stored: 2, duplicates: 1 });
    expect(await rolledUpCount(h.db)).toBe(before + 2);
    expect(await h.db('events').where({ user_id: 'mixed' }).count({ n: '*' }).first()).toEqual({ n: 3 });
  });

  it('when a user is active in several hours, then the bitmaps mark each of those hours and their day', async () => {
    await h.service.ingestor.ingest([
      makeEvent('user.logged_in', 'busy', '2026-04-19T01:05:00Z'),
      makeEvent('user.logged_in', 'busy', '2026-04-19T01:55:00Z'),
      makeEvent('user.logged_out', 'busy', '2026-04-19T03:00:00Z'),
    ]);
    await h.service.ingestor.ingest([makeEvent('user.logged_in', 'busy', '2026-04-19T03:30:00Z')]);
    expect(await activeIn(h, 'busy', 'active_users_hourly')).toBe(2);
    expect(await activeIn(h, 'busy', 'active_users_daily')).toBe(1);
    const summary = await h.http
      .get('/api/v1/analytics/summary')
      .query({ from: '2026-04-19T01:30:00Z', to: '2026-04-19T03:10:00Z' })
      .set('Authorization', h.admin);
    expect(summary.body).toMatchObject({ total: 2, distinct_users: 1 });
  });

  it('when an event is more than a day in the future, then it is refused (to be dead-lettered) and not stored', async () => {
    const future = makeEvent('user.logged_in', 'future', new Date(now.getTime() + 2 * DAY));
    const result = await h.service.ingestor.ingest([makeEvent('user.logged_in', 'present', '2026-04-20T09:59:00Z'), future]);
    expect(result).toMatchObject({ stored: 1, rejected: [{ index: 1, reason: expect.stringMatching(/future/) }] });
    expect(await h.db('events').where({ user_id: 'future' }).first()).toBeUndefined();
  });

  it('when an event is older than the retention, then it is neither stored nor counted', async () => {
    const before = await rolledUpCount(h.db);
    const result = await h.service.ingestor.ingest([makeEvent('user.logged_in', 'ancient', new Date(now.getTime() - 120 * DAY))]);
    expect(result).toMatchObject({ stored: 0, duplicates: 0, expired: 1 });
    expect(await rolledUpCount(h.db)).toBe(before);
  });

  it('when an event falls on a day with no partition yet, then its partition is created on demand', async () => {
    const day = new Date('2026-04-21T20:00:00Z');
    await h.service.ingestor.ingest([makeEvent('user.logged_in', 'tomorrow', day)]);
    expect(await partitionNames(h)).toContain('events_p20260421');
  });
});

describe('store latency', () => {
  it('when an event is stored, then its latency is the time from its event time to the commit', async () => {
    const h = await startAnalytics();
    try {
      const result = await h.service.ingestor.ingest([makeEvent('user.logged_in', 'late', new Date(Date.now() - 5_000))]);
      expect(result.latenciesSeconds).toHaveLength(1);
      expect(result.latenciesSeconds[0]).toBeGreaterThanOrEqual(5);
      expect(result.latenciesSeconds[0]).toBeLessThan(30);
    } finally {
      await h.close();
    }
  });
});

describe('retention', () => {
  let h: AnalyticsHarness;
  let now = new Date('2026-01-10T12:00:00Z');
  beforeAll(async () => {
    h = await startAnalytics({ now: () => now, env: { ANALYTICS_RETENTION_DAYS: '30', ANALYTICS_ROLLUP_RETENTION_DAYS: '365' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when maintenance runs, then partitions exist from yesterday to three days ahead', async () => {
    await h.service.maintenance.run();
    expect(await partitionNames(h)).toEqual(
      expect.arrayContaining(['events_p20260109', 'events_p20260110', 'events_p20260111', 'events_p20260112', 'events_p20260113']),
    );
  });

  it('when raw events pass the retention, then their partitions are dropped and the rollups still answer', async () => {
    const old = [
      makeEvent('user.registered', 'old-1', '2026-01-05T08:00:00Z'),
      makeEvent('user.logged_in', 'old-1', '2026-01-05T08:30:00Z'),
      makeEvent('user.logged_in', 'old-2', '2026-01-06T09:15:00Z'),
    ];
    await h.service.ingestor.ingest(old);
    const recentTime = new Date('2026-02-14T10:00:00Z');

    // Forty days later: the January partitions are past the 30-day retention.
    now = new Date('2026-02-15T12:00:00Z');
    await h.service.ingestor.ingest([makeEvent('user.logged_in', 'recent', recentTime)]);
    const report = await h.service.maintenance.run();
    expect(report.dropped).toEqual(expect.arrayContaining(['events_p20260105', 'events_p20260106']));
    const names = await partitionNames(h);
    expect(names).not.toContain('events_p20260105');
    expect(names).toContain('events_p20260214');
    expect(names.every((name) => name >= 'events_p20260116')).toBe(true);
    expect(await storedCount(h.db)).toBe(1);

    const summary = await h.http
      .get('/api/v1/analytics/summary')
      .query({ from: '2026-01-01', to: '2026-01-31' })
      .set('Authorization', h.admin)
      .expect(200);
    expect(summary.body).toMatchObject({ total: 3, distinct_users: 2, first_event_at: '2026-01-05T08:00:00.000Z' });
    expect(summary.body.by_type).toMatchObject({ 'user.registered': 1, 'user.logged_in': 2 });
    const events = await h.http.get('/api/v1/analytics/events').query({ to: '2026-01-31' }).set('Authorization', h.admin).expect(200);
    expect(events.body.events).toEqual([]);
  });

  it('when a range starts inside an hour whose raw events are gone, then that hour is counted whole from the rollups', async () => {
    const summary = await h.http
      .get('/api/v1/analytics/summary')
      .query({ from: '2026-01-05T08:20:00Z', to: '2026-01-05T08:40:00Z' })
      .set('Authorization', h.admin)
      .expect(200);
    expect(summary.body).toMatchObject({ total: 2, distinct_users: 1 });
  });

  it('when rollups pass their own retention, then they are deleted too', async () => {
    now = new Date('2027-03-01T00:00:00Z');
    const report = await h.service.maintenance.run();
    expect(report.prunedCounts).toBeGreaterThan(0);
    expect(report.prunedActivity).toBeGreaterThan(0);
    expect(await h.db('event_counts_hourly').where('bucket', '<', '2026-02-01').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await h.db('active_users_hourly').where('bucket', '<', '2026-03-01').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await h.db('active_users_daily').where('bucket', '<', '2026-03-01').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('when a drop was interrupted after the detach, then the next run removes the detached table', async () => {
    now = new Date('2027-03-01T00:00:00Z');
    await h.service.maintenance.run();
    await h.db.raw('CREATE TABLE events_p20270101 (LIKE events)');
    await h.service.maintenance.run();
    const { rows } = await h.db.raw("SELECT 1 FROM pg_class WHERE relname = 'events_p20270101'");
    expect(rows).toHaveLength(0);
  });
});
