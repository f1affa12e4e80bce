import { Kafka, logLevel } from 'kafkajs';
import { eventually, testKafkaBrokers } from '@galion/localdeps';
import { createEvent, KafkaEventBus, startEventConsumer, type ReceivedEvent } from '../src';
import { silentLogger, uniqueTopic } from './helpers';

const valid = (subject: string) =>
  JSON.stringify(
    createEvent('user.registered', { source: 'test', subject, data: { email: `${subject}@example.com`, name: subject, role: 'user' } }),
  );

describe('startEventConsumer on Kafka', () => {
  it('when poison messages arrive, then they go to the DLQ with a reason and the good ones behind them are handled', async () => {
    const topic = uniqueTopic('events');
    const dlqTopic = `${topic}.dlq`;
    const bus = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'consumer-test', logger: silentLogger });
    const handled: ReceivedEvent[] = [];
    const deadLettered: string[] = [];
    const kafka = new Kafka({ brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
    const reader = kafka.consumer({ groupId: uniqueTopic('dlq-reader') });
    try {
      await bus.ensureTopics([
        { name: topic, partitions: 1 },
        { name: dlqTopic, partitions: 1 },
      ]);
      const noId = JSON.parse(valid('u3'));
      delete noId.id;
      await bus.publish(topic, [
        { key: 'u1', value: valid('u1') },
        { key: 'u2', value: 'this is not json' },
        { key: 'u3', value: JSON.stringify(noId) },
        { key: 'u4', value: JSON.stringify({ ...JSON.parse(valid('u4')), type: 'user.teleported' }) },
        { key: 'u5', value: JSON.stringify({ ...JSON.parse(valid('u5')), data: { email: 5 } }) },
        { key: 'u6', value: valid('u6') },
      ]);
      const subscription = await startEventConsumer({
        bus,
        groupId: uniqueTopic('analytics'),
        topic,
        dlqTopic,
        logger: silentLogger,
        handle: async (events) => {
          handled.push(...events);
        },
        onDeadLetter: (_message, reason) => deadLettered.push(reason),
      });
      await eventually(() => handled.length === 2 && deadLettered.length === 4, 30_000, 'batch handled');
      expect(handled.map((received) => received.event.subject)).toEqual(['u1', 'u6']);
      expect(deadLettered[0]).toBe('not JSON');
      expect(deadLettered[1]).toMatch(/invalid envelope: id/);
      expect(deadLettered[2]).toMatch(/invalid envelope: type/);
      expect(deadLettered[3]).toMatch(/invalid user.registered data/);

      const dlq: { value: string; headers: Record<string, string> }[] = [];
      await reader.connect();
      await reader.subscribe({ topic: dlqTopic, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          dlq.push({
            value: message.value!.toString(),
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
          });
        },
      });
      await eventually(() => dlq.length === 4, 30_000, 'DLQ messages');
      expect(dlq[0]).toMatchObject({
        value: 'this is not json',
        headers: { 'dlq-reason': 'not JSON', 'dlq-source-topic': topic, 'dlq-source-offset': '1' },
      });
      expect(Buffer.from(dlq[0]!.headers['dlq-original-value-base64']!, 'base64').toString()).toBe('this is not json');
      await subscription.stop();
    } finally {
      await reader.disconnect();
      await bus.close();
    }
  });

  it('when the handler keeps failing, then no offset is committed and a new consumer in the group gets the same events', async () => {
    const topic = uniqueTopic('events');
    const groupId = uniqueTopic('group');
    const bus = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'retry-test', logger: silentLogger });
    try {
      await bus.ensureTopics([{ name: topic, partitions: 1 }]);
      await bus.publish(topic, [{ key: 'u1', value: valid('u1') }]);
      let attempts = 0;
      const failing = await startEventConsumer({
        bus,
        groupId,
        topic,
        logger: silentLogger,
        handle: async () => {
          attempts += 1;
          throw new Error('database unavailable');
        },
      });
      await eventually(() => attempts >= 3, 30_000, 'retries');
      await failing.stop();

      const seen: string[] = [];
      const healthy = await startEventConsumer({
        bus,
        groupId,
        topic,
        logger: silentLogger,
        handle: async (events) => {
          seen.push(...events.map((received) => received.event.subject));
        },
      });
      await eventually(() => seen.length === 1, 30_000, 'redelivery');
      expect(seen).toEqual(['u1']);
      await healthy.stop();
    } finally {
      await bus.close();
    }
  }, 60_000);
});
