import type { Logger } from '@galion/kit';
// The only module that knows kafkajs: replacing the Kafka client means replacing this file.
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type ConsumerRunConfig,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import {
  retryDelayMs,
  type EventBus,
  type OutgoingMessage,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from './bus.js';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  logger: Logger;
}

const toPinoLevel = (level: logLevel): 'error' | 'warn' | 'debug' =>
  level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : 'debug';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The event bus on Apache Kafka (kafkajs): idempotent producer with acks=all, manual offset commits. */
export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private readonly consumers = new Set<Consumer>();
  /** Set by close(): the admin client is not opened again (a scrape after shutdown must not leak a connection). */
  private closed = false;

  constructor(private readonly settings: KafkaSettings) {
    const logger = settings.logger;
    const config: KafkaConfig = {
      clientId: settings.clientId,
      brokers: settings.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }: LogEntry) => {
          const { message, ...rest } = log;
          logger[toPinoLevel(level)]({ kafka: rest }, `kafka: ${message}`);
        },
    };
    if (settings.ssl) config.ssl = true;
    if (settings.sasl) config.sasl = settings.sasl as SASLOptions;
    this.kafka = new Kafka(config);
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      producer.on(producer.events.DISCONNECT, () => {
        this.producer = undefined;
      });
      await producer.connect();
      return producer;
    })().catch((error: unknown) => {
      this.producer = undefined;
      throw error;
    });
    return this.producer;
  }

  /** The one admin client of the bus (topics, readiness, lag), connected on first use. */
  private getAdmin(): Promise<Admin> {
    if (this.closed) return Promise.reject(new Error('the event bus is closed'));
    this.admin ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 2 } });
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((message) => ({ key: message.key, value: message.value, headers: message.headers })),
    });
  }

  /**
   * Joins the group in the background and keeps trying (broker down, topic not created yet, a
   * crash kafkajs will not restart), so a service starts and recovers without the broker.
   */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    let stopped = false;
    let ready = false;
    let current: Consumer | undefined;
    let wakeUp: (() => void) | undefined;
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const run = async (): Promise<void> => {
      for (let attempt = 1; !stopped; attempt += 1) {
        const consumer = this.createConsumer(options, {
          joined: () => {
            ready = true;
          },
          left: () => {
            ready = false;
          },
          crashedForGood: () => {
            ready = false;
            this.consumers.delete(consumer);
            void consumer.disconnect().catch(() => undefined);
            if (!stopped) void pause(1_000).then(run);
          },
        });
        current = consumer;
        this.consumers.add(consumer);
        try {
          await consumer.connect();
          await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? true });
          await consumer.run(this.runConfig(consumer, options));
          return;
        } catch (error) {
          this.settings.logger.warn({ err: error, attempt, group: options.groupId }, 'joining the consumer group failed; retrying');
          this.consumers.delete(consumer);
          await consumer.disconnect().catch(() => undefined);
          await pause(Math.min(10_000, 500 * attempt));
        }
      }
    };
    const started = run();
    return {
      get ready() {
        return ready;
      },
      stop: async () => {
        stopped = true;
        wakeUp?.();
        await started;
        if (current) {
          this.consumers.delete(current);
          await current.disconnect().catch(() => undefined);
        }
        ready = false;
      },
    };
  }

  private createConsumer(options: SubscribeOptions, on: { joined(): void; left(): void; crashedForGood(): void }): Consumer {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      // Batches of up to 4 MiB a partition (kafkajs's default is 1 MiB, about 3,000 events): a
      // consumer that writes a batch in one transaction pays its commit and its rollup updates
      // per batch, so fewer, larger batches cost less per event when a backlog is drained.
      maxBytesPerPartition: 4 * 1024 * 1024,
      // A fetch of up to 12 MiB, so that three partitions each fill their batch: with kafkajs's
      // 10 MiB the third got what was left (2 MiB), and each fetch cycle waited on three batches
      // for the events of two and a half (docs/performance.md: ingestion, 44 → 54 % of COPY).
      maxBytes: 12 * 1024 * 1024,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, on.joined);
    consumer.on(consumer.events.STOP, on.left);
    consumer.on(consumer.events.CRASH, (event) => {
      on.left();
      this.settings.logger.error(
        { err: event.payload.error, restart: event.payload.restart, group: options.groupId },
        'kafka consumer crashed',
      );
      if (!event.payload.restart) on.crashedForGood();
    });
    return consumer;
  }

  private runConfig(consumer: Consumer, options: SubscribeOptions): ConsumerRunConfig {
    return {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const lastOffset = batch.lastOffset();
        const incoming = {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((message) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key ? message.key.toString() : null,
            value: message.value,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
                value === undefined ? [] : [[name, Array.isArray(value) ? String(value[0]) : String(value)]],
              ),
            ),
            timestamp: Number(message.timestamp),
          })),
        };
        for (let attempt = 1; ; attempt += 1) {
          if (!isRunning() || isStale()) return;
          try {
            await options.handleBatch(incoming);
            break;
          } catch (error) {
            options.onRetry?.(error, attempt);
            // Wait without losing the partition: keep heartbeating so the group does not rebalance.
            const until = Date.now() + retryDelayMs(attempt);
            for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
              await sleep(Math.min(1_000, left));
              await heartbeat();
            }
          }
        }
        resolveOffset(lastOffset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
      },
    };
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions })),
      });
    } catch (error) {
      // Another replica created them at the same moment.
      const now = new Set(await admin.listTopics());
      if (missing.some((topic) => !now.has(topic.name))) throw error;
    }
  }

  async consumerLag(groupId: string, topic: string): Promise<PartitionLag[]> {
    const admin = await this.getAdmin();
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    // kafkajs reports "-1" for a partition where the group has no committed offset.
    const committedBy = new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]));
    return ends
      .map(({ partition, high, low }) => {
        const start = BigInt(low);
        const position = committedBy.get(partition) ?? -1n;
        // Below the start offset (none committed, or retention deleted what was) the group still has every retained message to read.
        const lag = BigInt(high) - (position > start ? position : start);
        return { partition, lag: Number(lag > 0n ? lag : 0n) };
      })
      .sort((a, b) => a.partition - b.partition);
  }

  async ping(): Promise<void> {
    const admin = await this.getAdmin();
    await admin.describeCluster();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.disconnect().catch(() => undefined)));
    this.consumers.clear();
    const [producer, admin] = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => undefined),
      admin?.then((a) => a.disconnect()).catch(() => undefined),
    ]);
  }
}
