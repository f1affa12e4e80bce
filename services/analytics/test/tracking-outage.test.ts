import { randomUUID } from 'node:crypto';
import { startKafka, type KafkaHandle } from '@galion/localdeps';
import { eventually, startAnalytics, type AnalyticsHarness } from './harness';

jest.setTimeout(240_000);

/**
 * Kafka down while applications send events: the tracking API answers 503 with Retry-After at
 * once, and nothing it answered 202 for is lost or doubled once the broker is back. The broker is
 * the test's own, so stopping it touches no other test.
 */
describe('the tracking API while Kafka is down', () => {
  let kafka: KafkaHandle;
  let h: AnalyticsHarness;

  beforeAll(async () => {
    kafka = await startKafka({ partitions: 2 });
    h = await startAnalytics({
      env: {
        KAFKA_BROKERS: kafka.brokers.join(','),
        ANALYTICS_CONSUMER_ENABLED: 'true',
        ANALYTICS_TRACK_PUBLISH_TIMEOUT_MS: '2000',
      },
    });
    await h.service.appConsumer!.started;
    await eventually(() => h.service.appConsumer!.subscription?.ready === true, 90_000, 'app consumer joined');
  });
  afterAll(async () => {
    await h?.close();
    await kafka?.stop();
  });

  const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `outage_${i % 3}`, id: randomUUID(), time: new Date().toISOString() }));
  const stored = async (user: string) => Number((await h.db('app_events').where({ user_id: user }).count({ n: '*' }).first())?.n ?? 0);

  it('when the broker stops, then batches get 503 event_bus_unavailable fast, and after it is back every accepted event is stored once', async () => {
    const user = randomUUID();
    const token = await h.userToken(user);
    const send = (events: ReturnType<typeof batch>) => h.http.post('/api/v1/analytics/events').set('Authorization', token).send({ events });
    const before = batch(30);
    expect((await send(before)).status).toBe(202);
    await eventually(async () => (await stored(user)) === 30, 30_000, 'the first batch stored');

    await kafka.stop();
    const during = batch(10);
    const started = Date.now();
    const refused = await send(during);
    const firstAnswerMs = Date.now() - started;
    const again = Date.now();
    const refusedAgain = await send(during);
    const secondAnswerMs = Date.now() - again;

    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('event_bus_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(firstAnswerMs).toBeLessThan(5_000);
    // Right after a failure callers are refused at once rather than each waiting for the timeout.
    expect(refusedAgain.status).toBe(503);
    // Well under the 2 s publish timeout that a caller would otherwise wait, with room for a loaded machine.
    expect(secondAnswerMs).toBeLessThan(1_500);

    await kafka.start();
    // The client retries the refused batch (same ids and times) until it is accepted.
    await eventually(async () => (await send(during)).status === 202, 90_000, 'the batch accepted after the broker is back');
    await eventually(async () => (await stored(user)) >= 40, 60_000, 'every event stored');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await stored(user)).toBe(40);
    const ids = (await h.db('app_events').where({ user_id: user }).select('event_id')).map((row: { event_id: string }) => row.event_id);
    expect(new Set(ids)).toEqual(new Set([...before, ...during].map((event) => event.id)));
  });
});
