import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { eventually, testKafkaBrokers } from '@galion/localdeps';
import { InProcessEventBus, KafkaEventBus, type IncomingBatch } from '../src';
import { silentLogger, uniqueTopic } from './helpers';

jest.setTimeout(60_000);

const totalLag = (lags: { lag: number }[]) => lags.reduce((sum, { lag }) => sum + lag, 0);

describe('KafkaEventBus.consumerLag', () => {
  let bus: KafkaEventBus;
  // kafkajs itself, behind the bus's back: messages put on chosen partitions, offsets committed and records deleted by hand.
  let admin: Admin;
  let producer: Producer;
  beforeAll(async () => {
    bus = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'lag-test', logger: silentLogger });
    const kafka = new Kafka({ brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
  });
  afterAll(async () => {
    await Promise.all([admin?.disconnect(), producer?.disconnect(), bus?.close()]);
  });

  /** A new topic holding `counts[p]` messages on partition p. */
  const topicWith = async (counts: number[]): Promise<string> => {
    const topic = uniqueTopic('lag');
    await bus.ensureTopics([{ name: topic, partitions: counts.length }]);
    await producer.send({
      topic,
      acks: -1,
      messages: counts.flatMap((count, partition) => Array.from({ length: count }, (_, i) => ({ partition, value: `p${partition}-${i}` }))),
    });
    return topic;
  };

  it('when a group has committed offsets, then each partition lags by its end offset minus the committed offset', async () => {
    const topic = await topicWith([5, 7, 4]);
    const groupId = uniqueTopic('group');
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '2' },
        { partition: 1, offset: '7' },
        { partition: 2, offset: '1' },
      ],
    });

    const lags = await bus.consumerLag(groupId, topic);

    expect(lags).toEqual([
      { partition: 0, lag: 3 },
      { partition: 1, lag: 0 },
      { partition: 2, lag: 3 },
    ]);
  });

  it('when a group has committed nothing, then each partition lags by its end offset minus its start offset', async () => {
    const topic = await topicWith([6, 3, 0]);
    // Retention (here: records deleted) moves partition 0's start offset to 2: those messages are no longer there to read.
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs finds the partition leaders from metadata it already holds
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] });
    const behindRetention = uniqueTopic('group');
    await admin.setOffsets({ groupId: behindRetention, topic, partitions: [{ partition: 0, offset: '1' }] });

    const neverCommitted = await bus.consumerLag(uniqueTopic('group'), topic);
    const committedBelowStart = await bus.consumerLag(behindRetention, topic);

    expect(neverCommitted).toEqual([
      { partition: 0, lag: 4 },
      { partition: 1, lag: 3 },
      { partition: 2, lag: 0 },
    ]);
    expect(committedBelowStart).toEqual(neverCommitted);
  });

  it('when a consumer of the group handles everything and then stops, then the lag falls to 0 and grows again with new messages', async () => {
    const topic = await topicWith([4, 4, 4]);
    const groupId = uniqueTopic('group');
    let handled = 0;
    expect(totalLag(await bus.consumerLag(groupId, topic))).toBe(12);
    const subscription = await bus.subscribe({
      groupId,
      topic,
      handleBatch: async (batch: IncomingBatch) => {
        handled += batch.messages.length;
      },
    });
    try {
      await eventually(() => handled === 12, 30_000, 'every message handled');
      await eventually(async () => totalLag(await bus.consumerLag(groupId, topic)) === 0, 30_000, 'offsets committed');
    } finally {
      await subscription.stop();
    }

    await bus.publish(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ key: `user-${i}`, value: `after-${i}` })),
    );

    const lags = await bus.consumerLag(groupId, topic);
    expect(lags.map(({ partition }) => partition)).toEqual([0, 1, 2]);
    expect(totalLag(lags)).toBe(5);
  });

  it('when the bus is closed, then consumerLag fails instead of connecting again', async () => {
    const closing = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'lag-test-closed', logger: silentLogger });
    const topic = await topicWith([1]);
    await closing.consumerLag(uniqueTopic('group'), topic);

    await closing.close();

    await expect(closing.consumerLag(uniqueTopic('group'), topic)).rejects.toThrow(/closed/);
  });
});

describe('InProcessEventBus.consumerLag', () => {
  const publish = (bus: InProcessEventBus, topic: string, count: number, stem = 'm') =>
    bus.publish(
      topic,
      Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `${stem}-${i}` })),
    );

  it('when a group has read part of the log, then it lags by the end of the log minus its position', async () => {
    const bus = new InProcessEventBus();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let batches = 0;
    try {
      await publish(bus, 't', 3, 'first');
      await bus.subscribe({
        groupId: 'g',
        topic: 't',
        handleBatch: async () => {
          batches += 1;
          // The first batch goes through; the second waits, as a handler stuck on its database would.
          if (batches > 1) await gate;
        },
      });
      await eventually(async () => (await bus.consumerLag('g', 't'))[0]?.lag === 0, 5_000, 'first batch handled');

      await publish(bus, 't', 4, 'second');
      await eventually(() => batches === 2, 5_000, 'second batch handed over');

      expect(await bus.consumerLag('g', 't')).toEqual([{ partition: 0, lag: 4 }]);
      release();
      await eventually(async () => (await bus.consumerLag('g', 't'))[0]?.lag === 0, 5_000, 'second batch handled');
    } finally {
      release();
      await bus.close();
    }
  });

  it('when a group never read the topic, then it lags by every message still held, even after old ones were dropped', async () => {
    const bus = new InProcessEventBus();
    try {
      await publish(bus, 't', 25_000);
      await bus.subscribe({ groupId: 'reader', topic: 't', handleBatch: async () => undefined });
      await eventually(async () => (await bus.consumerLag('reader', 't'))[0]?.lag === 0, 10_000, 'everything read');
      const held = bus.messages('t').length;

      const lags = await bus.consumerLag('newcomer', 't');

      expect(held).toBeLessThan(25_000);
      expect(lags).toEqual([{ partition: 0, lag: held }]);
    } finally {
      await bus.close();
    }
  });

  it('when the topic does not exist, then there is no partition to report', async () => {
    const bus = new InProcessEventBus();

    expect(await bus.consumerLag('g', 'nothing-here')).toEqual([]);
  });
});
