import { KafkaEventBus, type EventEnvelope } from '@galion/events';
import { testKafkaBrokers } from '@galion/localdeps';
import {
  committedTotal,
  eventually,
  testKafka,
  joined,
  makeEvent,
  metricValue,
  rolledUpCount,
  silentLogger,
  startAnalytics,
  storedCount,
  uniqueName,
} from './harness';

jest.setTimeout(120_000);

/** Analytics consuming `topic` on the shared broker as `group`. */
const startOnKafka = (topic: string, group: string, databaseUrl?: string) =>
  startAnalytics({
    databaseUrl,
    env: {
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      ANALYTICS_TOPIC: topic,
      ANALYTICS_DLQ_TOPIC: `${topic}.dlq`,
      ANALYTICS_CONSUMER_GROUP: group,
      ANALYTICS_CONSUMER_ENABLED: 'true',
    },
  });

describe('the analytics consumer on a real Kafka broker', () => {
  let producer: KafkaEventBus;
  beforeAll(() => {
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'analytics-test', logger: silentLogger });
  });
  afterAll(async () => {
    await producer.close();
  });

  it('when poison messages (not JSON, wrong schema, missing id) arrive, then they reach the DLQ with reasons and the good ones behind them are stored', async () => {
    const topic = uniqueName('user-events');
    await producer.ensureTopics([
      { name: topic, partitions: 1 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    const good = [
      makeEvent('user.registered', 'k1', new Date()),
      makeEvent('user.logged_in', 'k1', new Date()),
      makeEvent('user.logged_in', 'k2', new Date()),
    ];
    const missingId: Partial<EventEnvelope> = { ...good[0]! };
    delete missingId.id;
    await producer.publish(topic, [
      { key: 'k0', value: 'this is not json' },
      { key: 'k0', value: JSON.stringify({ ...good[1], data: { ip: 42 } }) },
      { key: 'k0', value: JSON.stringify(missingId) },
      ...good.map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
    ]);
    const h = await startOnKafka(topic, uniqueName('analytics'));
    const reader = testKafka().consumer({ groupId: uniqueName('dlq-reader') });
    try {
      await joined(h);
      await eventually(async () => (await storedCount(h.db)) === 3, 60_000, 'good events stored');
      const ids = (await h.db('events').select('event_id')).map((row: { event_id: string }) => row.event_id).sort();
      expect(ids).toEqual(good.map((event) => event.id).sort());

      const dlq: { value: string; headers: Record<string, string> }[] = [];
      await reader.connect();
      await reader.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          dlq.push({
            value: message.value!.toString(),
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
          });
        },
      });
      await eventually(() => dlq.length === 3, 60_000, 'dead letters');
      expect(dlq.map((message) => message.headers['dlq-reason'])).toEqual([
        'not JSON',
        expect.stringMatching(/^invalid user.logged_in data: ip/),
        expect.stringMatching(/^invalid envelope: id/),
      ]);
      expect(dlq[0]).toMatchObject({ value: 'this is not json', headers: { 'dlq-source-topic': topic, 'dlq-source-offset': '0' } });
      expect(Buffer.from(dlq[2]!.headers['dlq-original-value-base64']!, 'base64').toString()).toBe(JSON.stringify(missingId));
      const metrics = (await h.http.get('/metrics').expect(200)).text;
      expect(metricValue(metrics, 'analytics_dlq_total')).toBe(3);
      expect(metricValue(metrics, 'analytics_events_stored_total')).toBe(3);
    } finally {
      await reader.disconnect();
      await h.close();
    }
  });

  it('when the offsets are replayed from the beginning, then every event is still stored and counted once', async () => {
    const topic = uniqueName('user-events');
    const group = uniqueName('analytics');
    await producer.ensureTopics([{ name: topic, partitions: 3 }]);
    const events = Array.from({ length: 90 }, (_, i) => makeEvent('user.logged_in', `replay-${i % 13}`, new Date(Date.now() - i * 1_000)));
    // One event is also published twice, as a producer retry would.
    await producer.publish(
      topic,
      [...events, events[5]!].map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
    );

    const first = await startOnKafka(topic, group);
    const databaseUrl = first.databaseUrl;
    await joined(first);
    await eventually(async () => (await storedCount(first.db)) === 90 && (await committedTotal(group, topic)) === 91, 60_000, 'first pass');
    // Keep the database for the second consumer: close the service and the test connection only.
    for (const closer of [...first.service.closers].reverse()) await closer.close();
    await first.db.destroy();

    const admin = testKafka().admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: group, topic, earliest: true });
    expect(await committedTotal(group, topic)).toBe(0);
    await admin.disconnect();

    const second = await startOnKafka(topic, group, databaseUrl);
    try {
      await joined(second);
      await eventually(async () => (await committedTotal(group, topic)) === 91, 60_000, 'replay committed');
      expect(await storedCount(second.db)).toBe(90);
      expect(await rolledUpCount(second.db)).toBe(90);
      const metrics = (await second.http.get('/metrics').expect(200)).text;
      expect(metricValue(metrics, 'analytics_events_processed_total')).toBe(91);
      expect(metricValue(metrics, 'analytics_events_stored_total')).toBe(0);
    } finally {
      await second.close();
    }
  });
});
