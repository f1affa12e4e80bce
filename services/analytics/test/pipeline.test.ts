import { createEvent, InProcessEventBus, USER_EVENTS_DLQ_TOPIC, USER_EVENTS_TOPIC } from '@galion/events';
import { eventually, makeEvent, metricValue, rolledUpCount, startAnalytics, storedCount, type AnalyticsHarness } from './harness';

describe('the consumer on the in-process bus (all-in-one mode)', () => {
  let bus: InProcessEventBus;
  let h: AnalyticsHarness;
  beforeAll(async () => {
    bus = new InProcessEventBus();
    h = await startAnalytics({ bus });
    await h.service.consumer!.started;
  });
  afterAll(async () => {
    await h?.close();
    await bus?.close();
  });

  it('when good and poison messages are published, then the good ones are stored and the poison dead-lettered with reasons', async () => {
    const good = Array.from({ length: 20 }, (_, i) => makeEvent(i % 2 ? 'user.logged_in' : 'user.registered', `user-${i % 7}`, new Date()));
    const noId: Record<string, unknown> = {
      ...createEvent('user.logged_out', { source: 'test', subject: 'x', data: { all_sessions: true } }),
    };
    delete noId.id;
    const future = makeEvent('user.logged_in', 'clock-skewed', new Date(Date.now() + 3 * 86_400_000));
    await bus.publish(USER_EVENTS_TOPIC, [
      { key: 'a', value: JSON.stringify(good[0]) },
      { key: 'b', value: '{not json' },
      { key: 'c', value: JSON.stringify(noId) },
      { key: 'd', value: JSON.stringify({ ...good[1], type: 'user.teleported' }) },
      { key: 'e', value: JSON.stringify(future) },
      ...good.slice(1).map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
      { key: 'a', value: JSON.stringify(good[0]) },
    ]);
    await eventually(
      async () => (await storedCount(h.db)) === 20 && bus.messages(USER_EVENTS_DLQ_TOPIC).length === 4,
      10_000,
      'events stored',
    );

    const reasons = bus.messages(USER_EVENTS_DLQ_TOPIC).map((message) => message.headers['dlq-reason']);
    expect(reasons).toHaveLength(4);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'not JSON',
        expect.stringMatching(/^invalid envelope: id/),
        expect.stringMatching(/^invalid envelope: type/),
        expect.stringMatching(/more than a day in the future$/),
      ]),
    );
    const notJson = bus.messages(USER_EVENTS_DLQ_TOPIC).find((message) => message.headers['dlq-reason'] === 'not JSON');
    expect(notJson?.value?.toString()).toBe('{not json');
    expect(Buffer.from(notJson!.headers['dlq-original-value-base64']!, 'base64').toString()).toBe('{not json');
    expect(await rolledUpCount(h.db)).toBe(20);

    const metrics = (await h.http.get('/metrics').expect(200)).text;
    expect(metricValue(metrics, 'analytics_events_processed_total')).toBe(21);
    expect(metricValue(metrics, 'analytics_events_stored_total')).toBe(20);
    expect(metricValue(metrics, 'analytics_dlq_total')).toBe(4);
    expect(metricValue(metrics, 'analytics_processing_errors_total')).toBe(0);
    expect(metricValue(metrics, `analytics_consumer_lag{topic="${USER_EVENTS_TOPIC}",partition="0"}`)).toBe(0);
    expect(metricValue(metrics, 'analytics_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'analytics_batch_size_sum')).toBe(25);
    expect(metricValue(metrics, 'analytics_batch_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'analytics_event_latency_seconds_count')).toBe(20);
    expect(metricValue(metrics, 'db_pool_connections_max')).toBe(10);
  });

  it('when the database and the consumer are up, then the service is ready', async () => {
    const response = await h.http.get('/readyz').expect(200);
    expect(response.body.checks).toMatchObject({ postgres: 'ok', consumer: 'ok' });
  });
});
