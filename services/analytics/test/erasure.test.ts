import { randomUUID } from 'node:crypto';
import { KafkaEventBus } from '@galion/events';
import { testKafkaBrokers } from '@galion/localdeps';
import { eventually, makeEvent, silentLogger, startAnalytics, uniqueName, type AnalyticsHarness } from './harness';

jest.setTimeout(180_000);

/** The stated bound (docs/analytics.md, Erasure): a deleted user's events are gone this long after user.deleted is published. */
const ERASURE_BOUND_MS = 10_000;

/**
 * The right to erasure, end to end on the real broker: user.deleted erases that user's platform
 * and application events and their share of the rollups, and nothing of anyone else's; the
 * totals and distinct-user counts then match the raw events exactly.
 */
describe('erasure of a deleted user’s events', () => {
  let producer: KafkaEventBus;
  let h: AnalyticsHarness;
  const topic = uniqueName('user-events');

  beforeAll(async () => {
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'erasure-test', logger: silentLogger });
    await producer.ensureTopics([
      { name: topic, partitions: 2 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    h = await startAnalytics({
      env: {
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        ANALYTICS_CONSUMER_ENABLED: 'true',
        ANALYTICS_TOPIC: topic,
        ANALYTICS_DLQ_TOPIC: `${topic}.dlq`,
        ANALYTICS_CONSUMER_GROUP: uniqueName('analytics'),
        ANALYTICS_APP_TOPIC: uniqueName('app-events'),
        ANALYTICS_APP_CONSUMER_GROUP: uniqueName('analytics-app'),
      },
    });
    for (const consumer of [h.service.consumer!, h.service.appConsumer!]) {
      await consumer.started;
      await eventually(() => consumer.subscription?.ready === true, 60_000, 'consumers joined');
    }
  });
  afterAll(async () => {
    await h?.close();
    await producer?.close();
  });

  const publish = (events: ReturnType<typeof makeEvent>[]) =>
    producer.publish(
      topic,
      events.map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
    );
  const count = async (table: string, where: Record<string, string>) =>
    Number((await h.db(table).where(where).count({ n: '*' }).first())?.n ?? 0);
  const track = async (user: string, names: string[]) =>
    h.http
      .post('/api/v1/analytics/events')
      .set('Authorization', await h.userToken(user))
      .send({ events: names.map((name) => ({ name, id: randomUUID(), time: new Date().toISOString() })) })
      .expect(202);
  /** The hourly counts equal the raw events, bucket by bucket. */
  const rollupsMatchRaw = async () => {
    const platform = await h.db.raw(`
      SELECT count(*) AS n FROM (
        SELECT bucket, event_type, count FROM event_counts_hourly WHERE count <> 0
        EXCEPT
        SELECT date_trunc('hour', event_time, 'UTC'), event_type, count(*) FROM events GROUP BY 1, 2) AS d`);
    const app = await h.db.raw(`
      SELECT count(*) AS n FROM (
        SELECT bucket, site, name, count FROM app_event_counts_hourly WHERE count <> 0
        EXCEPT
        SELECT date_trunc('hour', event_time, 'UTC'), site, name, count(*) FROM app_events GROUP BY 1, 2, 3) AS d`);
    return Number(platform.rows[0].n) === 0 && Number(app.rows[0].n) === 0;
  };

  it('when user.deleted arrives, then exactly that user’s events and rollup shares are erased within the bound, and late events of theirs are not stored', async () => {
    const [gone, kept] = [`gone-${randomUUID()}`, `kept-${randomUUID()}`];
    const now = Date.now();
    const history = (user: string) => [
      makeEvent('user.registered', user, new Date(now - 5 * 3_600_000)),
      makeEvent('user.logged_in', user, new Date(now - 4 * 3_600_000)),
      makeEvent('user.logged_in', user, new Date(now - 60_000)),
    ];
    await publish([...history(gone), ...history(kept)]);
    await track(gone, ['page_view', 'signup_clicked', 'page_view']);
    await track(kept, ['page_view', 'search']);
    await eventually(
      async () =>
        (await count('events', { user_id: kept })) === 3 &&
        (await count('events', { user_id: gone })) === 3 &&
        (await count('app_events', { user_id: gone })) === 3 &&
        (await count('app_events', { user_id: kept })) === 2,
      30_000,
      'the history stored',
    );
    const summaryBefore = (await h.http.get('/api/v1/analytics/summary').set('Authorization', h.admin).expect(200)).body;
    expect(summaryBefore.distinct_users).toBe(2);

    const deletedAt = Date.now();
    await publish([makeEvent('user.deleted', gone, new Date())]);
    await eventually(
      async () => (await count('app_events', { user_id: gone })) === 0 && (await count('events', { user_id: gone })) === 1,
      ERASURE_BOUND_MS,
      'the erasure',
    );
    const erasedWithinMs = Date.now() - deletedAt;

    expect(erasedWithinMs).toBeLessThan(ERASURE_BOUND_MS);
    expect(await h.db('events').where({ user_id: gone }).pluck('event_type')).toEqual(['user.deleted']);
    expect(await count('events', { user_id: kept })).toBe(3);
    expect(await count('app_events', { user_id: kept })).toBe(2);
    expect(await rollupsMatchRaw()).toBe(true);
    const summary = (await h.http.get('/api/v1/analytics/summary').set('Authorization', h.admin).expect(200)).body;
    // The deletion itself is kept (it holds no personal data), so the deleted user is active in its hour only.
    const exactDistinct = await h.db('events').countDistinct({ n: 'user_id' }).first();
    expect(summary.distinct_users).toBe(Number(exactDistinct?.n));
    expect(summary.by_type['user.logged_in']).toBe(2);
    expect(summary.by_type['user.registered']).toBe(1);
    const names = (await h.http.get('/api/v1/analytics/app/names').set('Authorization', h.admin).expect(200)).body.names;
    expect(names).toEqual([
      { name: 'page_view', events: 1, users: 1, visitors: 1 },
      { name: 'search', events: 1, users: 1, visitors: 1 },
    ]);

    // A late platform event and a late application event of the erased user (a redelivery, a queued request).
    await publish([makeEvent('user.logged_out', gone, new Date())]);
    await track(gone, ['late_event']);
    await publish([makeEvent('user.logged_in', kept, new Date())]);
    await track(kept, ['after']);
    await eventually(
      async () => (await count('events', { user_id: kept })) === 4 && (await count('app_events', { user_id: kept })) === 3,
      20_000,
      'the later events of the other user',
    );
    expect(await count('events', { user_id: gone })).toBe(1);
    expect(await count('app_events', { user_id: gone })).toBe(0);
    expect(await rollupsMatchRaw()).toBe(true);
  });

  it('when several users are deleted in one batch, then each is erased with their share of the rollups, and the others are kept', async () => {
    const now = Date.now();
    const [first, second, other] = [`first-${randomUUID()}`, `second-${randomUUID()}`, `other-${randomUUID()}`];
    const history = (user: string) => [
      makeEvent('user.registered', user, new Date(now - 2 * 3_600_000)),
      makeEvent('user.logged_in', user, new Date(now - 30_000)),
    ];
    await publish([...history(first), ...history(second), ...history(other)]);
    await eventually(
      async () => (await count('events', { user_id: other })) === 2 && (await count('events', { user_id: second })) === 2,
      20_000,
      'stored',
    );

    // One key, so one partition and one batch: both deletions erased in the same transaction, their
    // bits cleared from the same bitmap rows (consecutive user numbers share a block).
    await producer.publish(
      topic,
      [makeEvent('user.deleted', first, new Date()), makeEvent('user.deleted', second, new Date())].map((event) => ({
        key: first,
        value: JSON.stringify(event),
      })),
    );

    await eventually(
      async () => (await count('events', { user_id: first })) === 1 && (await count('events', { user_id: second })) === 1,
      ERASURE_BOUND_MS,
      'both erased',
    );
    expect(await count('events', { user_id: other })).toBe(2);
    expect(Number((await h.db('erased_users').whereIn('user_id', [first, second]).count({ n: '*' }).first())?.n)).toBe(2);
    expect(await rollupsMatchRaw()).toBe(true);
    const summary = (await h.http.get('/api/v1/analytics/summary').set('Authorization', h.admin).expect(200)).body;
    const exactDistinct = await h.db('events').countDistinct({ n: 'user_id' }).first();
    expect(summary.distinct_users).toBe(Number(exactDistinct?.n));
  });

  it('when the same user.deleted is delivered twice, then the second erases nothing more and fails nothing', async () => {
    const user = `twice-${randomUUID()}`;
    await track(user, ['a']);
    await eventually(async () => (await count('app_events', { user_id: user })) === 1, 20_000, 'stored');
    const deletion = makeEvent('user.deleted', user, new Date());

    await publish([deletion]);
    await publish([deletion]);

    await eventually(async () => (await count('app_events', { user_id: user })) === 0, ERASURE_BOUND_MS, 'erased');
    await eventually(
      async () => Number((await h.db('erased_users').where({ user_id: user }).count({ n: '*' }).first())?.n) === 1,
      5_000,
      'recorded once',
    );
    expect(await count('events', { user_id: user })).toBe(1);
    expect(await rollupsMatchRaw()).toBe(true);
  });
});
