import { KafkaEventBus } from '@galion/events';
import type { Knex } from '@galion/kit';
import { startKafka, testKafkaBrokers, type KafkaHandle } from '@galion/localdeps';
import {
  committedTotal,
  consumerLagOf,
  eventually,
  joined,
  makeEvent,
  silentLogger,
  startAnalytics,
  storedCount,
  totalLagOf,
  uniqueName,
  type AnalyticsHarness,
} from './harness';

jest.setTimeout(180_000);

/** Analytics consuming `topic` as `group` on `brokers` (the shared test broker by default). */
const startOnKafka = (topic: string, group: string, brokers = testKafkaBrokers()) =>
  startAnalytics({
    env: {
      KAFKA_BROKERS: brokers.join(','),
      ANALYTICS_TOPIC: topic,
      ANALYTICS_DLQ_TOPIC: `${topic}.dlq`,
      ANALYTICS_CONSUMER_GROUP: group,
      ANALYTICS_CONSUMER_ENABLED: 'true',
    },
  });

/** Publishes `count` valid events, keyed by a handful of users so they spread over the partitions. */
const publishEvents = async (bus: KafkaEventBus, topic: string, count: number, stem: string): Promise<void> => {
  const events = Array.from({ length: count }, (_, i) => makeEvent('user.logged_in', `${stem}-${i % 11}`, new Date()));
  await bus.publish(
    topic,
    events.map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
  );
};

const scrape = async (h: AnalyticsHarness): Promise<string> => (await h.http.get('/metrics').expect(200)).text;

/**
 * Waits until a scrape of `h` reads this lag of `topic`: the total, or each partition's. A scrape
 * keeps the last values when the broker is slow to answer, so one scrape may be a step behind.
 */
const lagReads = (h: AnalyticsHarness, topic: string, expected: number | Record<string, number>) =>
  eventually(
    async () => {
      const text = await scrape(h);
      return typeof expected === 'number'
        ? totalLagOf(text, topic) === expected
        : JSON.stringify(consumerLagOf(text, topic)) === JSON.stringify(expected);
    },
    15_000,
    `the lag to read ${JSON.stringify(expected)}`,
  );

/** Queries of `db`'s database waiting for a lock. */
const waitingForLocks = async (db: Knex): Promise<number> => {
  const { rows } = await db.raw<{ rows: { n: string }[] }>(
    'SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE NOT l.granted AND d.datname = current_database()',
  );
  return Number(rows[0]?.n ?? 0);
};

describe('analytics_consumer_lag, read from the broker at scrape time', () => {
  let producer: KafkaEventBus;
  beforeAll(() => {
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'lag-test', logger: silentLogger });
  });
  afterAll(async () => {
    await producer.close();
  });

  it('when the consumer is stuck on its database while events keep coming, then the lag grows with every unconsumed event, and falls to 0 once it catches up', async () => {
    const topic = uniqueName('user-events');
    const group = uniqueName('analytics');
    await producer.ensureTopics([
      { name: topic, partitions: 3 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    const h = await startOnKafka(topic, group);
    let lock: Knex.Transaction | undefined;
    try {
      await joined(h);
      await lagReads(h, topic, { '0': 0, '1': 0, '2': 0 });

      // A transaction of the test holds the events table: the consumer's next insert waits for it.
      lock = await h.db.transaction();
      await lock.raw('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      await publishEvents(producer, topic, 30, 'first');
      await eventually(async () => (await waitingForLocks(h.db)) > 0, 30_000, 'the consumer blocked on its batch');
      await lagReads(h, topic, 30);

      // Nothing reaches the consumer while it is stuck: only a lag read from the broker sees these.
      await publishEvents(producer, topic, 20, 'second');
      await lagReads(h, topic, 50);
      expect(await committedTotal(group, topic)).toBe(0);

      await lock.rollback();
      lock = undefined;
      await eventually(async () => (await committedTotal(group, topic)) === 50, 60_000, 'the consumer caught up');
      await lagReads(h, topic, { '0': 0, '1': 0, '2': 0 });
      expect(await storedCount(h.db)).toBe(50);
    } finally {
      await lock?.rollback();
      await h.close();
    }
  });

  it('when the consumer has stopped, then its lag still shows and grows; when a consumer of the group runs again, then it falls to 0', async () => {
    const topic = uniqueName('user-events');
    const group = uniqueName('analytics');
    await producer.ensureTopics([
      { name: topic, partitions: 3 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    const stopped = await startOnKafka(topic, group);
    let restarted: AnalyticsHarness | undefined;
    try {
      await joined(stopped);
      await publishEvents(producer, topic, 10, 'before');
      await eventually(async () => (await committedTotal(group, topic)) === 10, 60_000, 'first events consumed');
      await lagReads(stopped, topic, 0);

      // As when the consumer crashed for good or lost its partitions: no more batches reach it.
      await stopped.service.consumer!.subscription!.stop();
      await publishEvents(producer, topic, 25, 'while-stopped');
      await lagReads(stopped, topic, 25);
      await publishEvents(producer, topic, 5, 'still-stopped');
      await lagReads(stopped, topic, 30);

      restarted = await startOnKafka(topic, group);
      await joined(restarted);
      await eventually(async () => (await committedTotal(group, topic)) === 40, 60_000, 'the group caught up');
      expect(await storedCount(restarted.db)).toBe(30);
      // Every replica reports the lag of the whole group, the stopped one too.
      await lagReads(restarted, topic, 0);
      await lagReads(stopped, topic, { '0': 0, '1': 0, '2': 0 });
    } finally {
      await restarted?.close();
      await stopped.close();
    }
  });

  describe('when the broker does not answer', () => {
    let kafka: KafkaHandle;
    let h: AnalyticsHarness;
    let ownProducer: KafkaEventBus;
    const topic = uniqueName('user-events');
    beforeAll(async () => {
      kafka = await startKafka({ partitions: 1 });
      ownProducer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'lag-outage-test', logger: silentLogger });
      await ownProducer.ensureTopics([
        { name: topic, partitions: 3 },
        { name: `${topic}.dlq`, partitions: 1 },
      ]);
      h = await startOnKafka(topic, uniqueName('analytics'), kafka.brokers);
      await joined(h);
      // The consumer stops so that there is a lag to keep, and nothing but the scrape talks to the broker.
      await h.service.consumer!.subscription!.stop();
    });
    afterAll(async () => {
      kafka?.thaw();
      await h?.close();
      await ownProducer?.close();
      await kafka?.stop();
    });

    /** Scrapes and says how long it took. */
    const timedScrape = async (): Promise<{ text: string; ms: number }> => {
      const started = Date.now();
      const text = await scrape(h);
      return { text, ms: Date.now() - started };
    };

    it('when the broker hangs or is down, then a scrape still answers within about 2 s, with the last values; once it is back, the lag is read again', async () => {
      await publishEvents(ownProducer, topic, 12, 'before-outage');
      await eventually(async () => totalLagOf(await scrape(h), topic) === 12, 30_000, 'lag of the published events');
      const last = consumerLagOf(await scrape(h), topic);

      // Frozen: connections stay open and nothing answers (kafkajs would wait 30 s per request).
      kafka.freeze();
      for (let i = 0; i < 3; i += 1) {
        const { text, ms } = await timedScrape();
        expect(ms).toBeLessThan(3_000);
        expect(consumerLagOf(text, topic)).toEqual(last);
      }
      kafka.thaw();

      // Down: connections refused.
      await kafka.stop();
      for (let i = 0; i < 3; i += 1) {
        const { text, ms } = await timedScrape();
        expect(ms).toBeLessThan(3_000);
        expect(consumerLagOf(text, topic)).toEqual(last);
      }

      await kafka.start();
      await publishEvents(ownProducer, topic, 3, 'after-outage');
      await eventually(async () => totalLagOf(await scrape(h), topic) === 15, 60_000, 'lag read again after the outage');
    });
  });
});
