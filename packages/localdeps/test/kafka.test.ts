import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startKafka, testKafkaBrokers } from '../src/index';

const client = (brokers: string[]): Kafka =>
  new Kafka({ clientId: 'localdeps-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 200 } });

const produce = async (brokers: string[], topic: string, value: string): Promise<void> => {
  const producer = client(brokers).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
};

/** Reads the topic from the beginning until `count` messages arrived. */
const consume = async (brokers: string[], topic: string, count: number): Promise<string[]> => {
  const consumer: Consumer = client(brokers).consumer({ groupId: `reader-${topic}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<string[]>((resolve, reject) => {
      const values: string[] = [];
      const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages arrived`)), 30_000);
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? '');
            if (values.length === count) {
              clearTimeout(timer);
              resolve(values);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
};

const partitionCount = async (brokers: string[], topic: string): Promise<number> => {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
};

const createTopic = async (brokers: string[], topic: string): Promise<void> => {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    expect(await admin.createTopics({ topics: [{ topic }], waitForLeaders: true })).toBe(true);
  } finally {
    await admin.disconnect();
  }
};

describe('startKafka', () => {
  test('runs a broker that carries messages and keeps them across stop and start', async () => {
    const kafka = await startKafka({ partitions: 2 });
    try {
      expect(kafka.brokers).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
      await createTopic(kafka.brokers, 'outage');
      expect(await partitionCount(kafka.brokers, 'outage')).toBe(2);
      await produce(kafka.brokers, 'outage', 'before');

      await kafka.stop();
      await expect(produce(kafka.brokers, 'outage', 'during')).rejects.toThrow();
      await kafka.start();

      await produce(kafka.brokers, 'outage', 'after');
      expect((await consume(kafka.brokers, 'outage', 2)).sort()).toEqual(['after', 'before']);
    } finally {
      await kafka.stop();
    }
  }, 180_000);
});

describe('the shared test broker', () => {
  test('creates topics with 3 partitions, not on first use, and carries messages', async () => {
    const brokers = testKafkaBrokers();
    await expect(produce(brokers, 'never-created', 'lost')).rejects.toThrow();
    await createTopic(brokers, 'shared-topic');
    expect(await partitionCount(brokers, 'shared-topic')).toBe(3);
    await produce(brokers, 'shared-topic', 'hello');
    expect(await consume(brokers, 'shared-topic', 1)).toEqual(['hello']);
  }, 90_000);
});
