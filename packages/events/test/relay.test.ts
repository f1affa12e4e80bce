import { createDatabase, createMetrics } from '@galion/kit';
import { eventually, startKafka, testKafkaBrokers } from '@galion/localdeps';
import { InProcessEventBus, KafkaEventBus, OutboxRelay, type IncomingMessage } from '../src';
import { eventIds, outboxDatabase, silentLogger, uniqueTopic, writeEvents } from './helpers';

describe('OutboxRelay', () => {
  it('when events are in the outbox, then the relay publishes them once, in order, and marks them', async () => {
    const db = await outboxDatabase();
    const bus = new InProcessEventBus();
    const metrics = createMetrics({ defaultMetrics: false });
    const relay = new OutboxRelay({ knex: db.knex, bus, logger: silentLogger, topic: 'events', batchSize: 7, registry: metrics.registry });
    try {
      const events = await writeEvents(db.knex, 30);
      expect(await metrics.registry.getSingleMetricAsString('outbox_pending_events')).toContain('outbox_pending_events 30');
      let published = 0;
      for (let round = 0; round < 10; round += 1) published += await relay.relayOnce();
      expect(published).toBe(30);
      expect(eventIds([...bus.messages('events')])).toEqual(events.map((event) => event.id));
      expect(bus.messages('events')[0]!.key).toBe('user-0');
      expect(bus.messages('events')[0]!.headers['event-type']).toBe('user.logged_in');
      const pending = await db.knex('outbox').whereNull('published_at').count({ count: '*' }).first();
      expect(Number(pending!.count)).toBe(0);
      expect(await metrics.registry.getSingleMetricAsString('outbox_published_total')).toContain('outbox_published_total 30');
    } finally {
      await db.close();
    }
  });

  it('when two relays run on the same outbox, then each event is published once and order holds', async () => {
    const db = await outboxDatabase();
    const bus = new InProcessEventBus();
    const relays = [1, 2].map(
      () => new OutboxRelay({ knex: db.knex, bus, logger: silentLogger, topic: 'events', batchSize: 5, pollIntervalMs: 10 }),
    );
    try {
      const events = await writeEvents(db.knex, 200);
      relays.forEach((relay) => relay.start());
      await eventually(() => bus.messages('events').length >= 200);
      await Promise.all(relays.map((relay) => relay.stop()));
      expect(eventIds([...bus.messages('events')])).toEqual(events.map((event) => event.id));
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
      await db.close();
    }
  });

  it('when published rows are older than retention, then prune deletes them and keeps pending ones', async () => {
    const db = await outboxDatabase();
    const relay = new OutboxRelay({ knex: db.knex, bus: new InProcessEventBus(), logger: silentLogger, retentionMs: 60_000 });
    try {
      await writeEvents(db.knex, 4);
      await relay.relayOnce();
      await writeEvents(db.knex, 2);
      await db
        .knex('outbox')
        .whereNotNull('published_at')
        .update({ published_at: new Date(Date.now() - 120_000) });
      expect(await relay.prune()).toBe(4);
      expect((await db.knex('outbox').select('position')).length).toBe(2);
    } finally {
      await db.close();
    }
  });

  it('when the relay publishes to real Kafka, then a consumer reads every event in per-user order', async () => {
    const db = await outboxDatabase();
    const topic = uniqueTopic('relay');
    const bus = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'relay-test', logger: silentLogger });
    const relay = new OutboxRelay({ knex: db.knex, bus, logger: silentLogger, topic, pollIntervalMs: 20 });
    const received: IncomingMessage[] = [];
    try {
      await bus.ensureTopics([{ name: topic, partitions: 3 }]);
      const events = await writeEvents(db.knex, 300, 7);
      relay.start();
      const subscription = await bus.subscribe({
        groupId: uniqueTopic('group'),
        topic,
        handleBatch: async (batch) => {
          received.push(...batch.messages);
        },
      });
      await eventually(() => received.length >= 300, 30_000, '300 events from Kafka');
      expect(new Set(eventIds(received)).size).toBe(300);
      for (let user = 0; user < 7; user += 1) {
        const expected = events.filter((event) => event.subject === `user-${user}`).map((event) => event.id);
        expect(eventIds(received.filter((message) => message.key === `user-${user}`))).toEqual(expected);
      }
      expect(subscription.ready).toBe(true);
    } finally {
      await relay.stop();
      await bus.close();
      await db.close();
    }
  });
});

describe('OutboxRelay metrics', () => {
  it('when the database is unreachable, then a scrape still succeeds (the target must not look down)', async () => {
    const knex = createDatabase({ url: 'postgres://postgres@127.0.0.1:1/nowhere', acquireTimeoutMs: 200 });
    const metrics = createMetrics({ defaultMetrics: false });
    new OutboxRelay({ knex, bus: new InProcessEventBus(), logger: silentLogger, registry: metrics.registry });
    try {
      const text = await metrics.registry.metrics();
      expect(text).toContain('outbox_pending_events');
    } finally {
      await knex.destroy();
    }
  });
});

describe('OutboxRelay through a Kafka outage', () => {
  it('when Kafka is down while events are written, then they wait in the outbox and arrive once after it returns', async () => {
    const kafka = await startKafka({ partitions: 1 });
    const db = await outboxDatabase();
    const topic = 'user-events';
    const bus = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'outage-test', logger: silentLogger });
    const relay = new OutboxRelay({ knex: db.knex, bus, logger: silentLogger, topic, pollIntervalMs: 20 });
    const received: IncomingMessage[] = [];
    try {
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      relay.start();
      const before = await writeEvents(db.knex, 50);
      await eventually(async () => Number((await db.knex('outbox').whereNull('published_at').count({ c: '*' }).first())!.c) === 0, 20_000);

      await kafka.stop();
      const during = await writeEvents(db.knex, 50);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const waiting = await db.knex('outbox').whereNull('published_at').count({ c: '*' }).first();
      expect(Number(waiting!.c)).toBe(50);

      await kafka.start();
      await eventually(
        async () => Number((await db.knex('outbox').whereNull('published_at').count({ c: '*' }).first())!.c) === 0,
        60_000,
        'outbox drained',
      );
      await bus.subscribe({
        groupId: 'outage-reader',
        topic,
        handleBatch: async (batch) => {
          received.push(...batch.messages);
        },
      });
      await eventually(() => received.length >= 100, 30_000, '100 events');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ids = eventIds(received);
      expect(ids).toHaveLength(100);
      expect(ids).toEqual([...before, ...during].map((event) => event.id));
    } finally {
      await relay.stop();
      await bus.close();
      await db.close();
      await kafka.stop();
    }
  }, 150_000);
});
