import { KafkaEventBus } from '@galion/events';
import { ensureDatabaseExists } from '@galion/kit';
import { startPostgres, testKafkaBrokers, type PostgresHandle } from '@galion/localdeps';
import {
  committedTotal,
  eventually,
  joined,
  makeEvent,
  metricValue,
  rolledUpCount,
  silentLogger,
  startAnalytics,
  storedCount,
  uniqueName,
  type AnalyticsHarness,
} from './harness';

jest.setTimeout(180_000);

/** Publishes `count` valid events to `topic`, 50 per request; returns them. */
const published = async (bus: KafkaEventBus, topic: string, count: number, stem: string) => {
  const events = Array.from({ length: count }, (_, i) =>
    makeEvent(i % 3 ? 'user.logged_in' : 'user.updated', `${stem}-${i % 17}`, new Date()),
  );
  for (let i = 0; i < events.length; i += 50) {
    await bus.publish(
      topic,
      events.slice(i, i + 50).map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
    );
  }
  return events;
};

describe('PostgreSQL stopped under the consumer', () => {
  let postgres: PostgresHandle;
  let h: AnalyticsHarness;
  let producer: KafkaEventBus;
  const topic = uniqueName('user-events');
  const group = uniqueName('analytics');

  beforeAll(async () => {
    postgres = await startPostgres({ persistent: true });
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'outage-test', logger: silentLogger });
    await producer.ensureTopics([
      { name: topic, partitions: 3 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    const databaseUrl = postgres.urlFor('analytics_outage');
    await ensureDatabaseExists(databaseUrl);
    h = await startAnalytics({
      databaseUrl,
      env: {
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        ANALYTICS_TOPIC: topic,
        ANALYTICS_DLQ_TOPIC: `${topic}.dlq`,
        ANALYTICS_CONSUMER_GROUP: group,
        ANALYTICS_CONSUMER_ENABLED: 'true',
      },
    });
    await joined(h);
  });
  afterAll(async () => {
    await h?.close();
    await producer?.close();
    await postgres?.stop();
  });

  it('when PostgreSQL stops, then no offset moves; when it is back, then consumption resumes and nothing is lost or doubled', async () => {
    const before = await published(producer, topic, 200, 'before');
    await eventually(
      async () => (await storedCount(h.db)) === 200 && (await committedTotal(group, topic)) === 200,
      60_000,
      'first events stored',
    );

    await postgres.stop();
    const during = await published(producer, topic, 300, 'during');
    const errors = async () => metricValue((await h.http.get('/metrics')).text, 'analytics_processing_errors_total') ?? 0;
    await eventually(async () => (await errors()) >= 3, 60_000, 'failed attempts while PostgreSQL is down');
    // The consumer has been failing for a while; not one of the new offsets may be committed.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await committedTotal(group, topic)).toBe(200);
    const lag = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(`analytics_consumer_lag{topic="${topic}"`))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(lag((await h.http.get('/metrics')).text)).toBeGreaterThan(0);
    const readiness = await h.http.get('/readyz').expect(503);
    expect(readiness.body.checks.postgres).toMatch(/^failing/);

    await postgres.start();
    await eventually(async () => (await committedTotal(group, topic)) === 500, 90_000, 'consumption resumed');
    expect(await storedCount(h.db)).toBe(500);
    const ids = (await h.db('events').select('event_id')).map((row: { event_id: string }) => row.event_id);
    expect(new Set(ids)).toEqual(new Set([...before, ...during].map((event) => event.id)));
    expect(await rolledUpCount(h.db)).toBe(500);
    const metrics = (await h.http.get('/metrics')).text;
    expect(metricValue(metrics, 'analytics_events_stored_total')).toBe(500);
    // Read from the broker at scrape time; a scrape keeps the last values when the broker is slow.
    await eventually(async () => lag((await h.http.get('/metrics')).text) === 0, 15_000, 'the lag to read 0');
    await h.http.get('/readyz').expect(200);
  });
});
