import { connectEventBus, type EventBus, type OutgoingMessage } from '@galion/events';
import { ConfigError, Registry, type Closers, type Logger } from '@galion/kit';
import type { Redis } from 'ioredis';
import type { FeedConfig } from './config.js';
import { startFeedConsumer } from './consumers/event-consumer.js';
import { createFeedMetrics } from './consumers/metrics.js';
import { FeedUpdater } from './domain/feed-updater.js';
import { connectFeedRedis, feedStoreOf } from './store.js';

export interface RebuildReport {
  /** The consumer group the replay read with (left to expire on the broker). */
  groupId: string;
  /** Valid events applied. */
  events: number;
  /** Invalid messages met and skipped (the live consumer dead-lettered them already). */
  skippedInvalid: number;
  durationMs: number;
}

export interface RebuildInfrastructure {
  logger: Logger;
  /** A bus to read (tests, all-in-one); otherwise Kafka from KAFKA_BROKERS. */
  bus?: EventBus;
  /** A Redis client to write (tests); otherwise one to REDIS_URL. */
  redis?: Redis;
  /** The replay's consumer group; by default `<FEED_CONSUMER_GROUP>-rebuild-<time>`, a fresh one. */
  groupId?: string;
  /** How often the lag is read while waiting for the end of the topic. Default 500 ms. */
  pollMs?: number;
  now?: () => Date;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The bus as the replay sees it: the invalid messages it meets were dead-lettered by the live
 * consumer when they first came, so they are counted, not published again.
 */
const withoutDeadLetters = (bus: EventBus, dlqTopic: string, onSkipped: (count: number) => void): EventBus => ({
  publish: async (topic: string, messages: OutgoingMessage[]) => {
    if (topic === dlqTopic) onSkipped(messages.length);
    else await bus.publish(topic, messages);
  },
  subscribe: (options) => bus.subscribe(options),
  ensureTopics: (topics) => bus.ensureTopics(topics),
  consumerLag: (groupId, topic) => bus.consumerLag(groupId, topic),
  ping: () => bus.ping(),
  close: () => bus.close(),
});

/**
 * Rebuilds the feeds after Redis lost its data: reads the user-events topic from its start with a
 * fresh consumer group and applies every event as the live consumer does, until the group has
 * caught up with the end of the topic (its lag is 0 on every partition). What the replay gives back
 * is what the topic still holds: Kafka's retention bounds it (docs/feed.md: Rebuilding). The live
 * consumer may run meanwhile: every write is idempotent and safe in any order, so the two agree.
 */
export const rebuildFeed = async (config: FeedConfig, infra: RebuildInfrastructure): Promise<RebuildReport> => {
  const { logger } = infra;
  if (!infra.bus && !config.kafka) {
    throw new ConfigError(
      'Invalid configuration, fix these environment variables:\n  KAFKA_BROKERS: required: the rebuild replays the user events (not set)',
    );
  }
  const started = Date.now();
  const closers: Closers = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer.close().catch(() => undefined);
  };
  try {
    const redis = await connectFeedRedis(config, infra, closers);
    const store = feedStoreOf(redis, config);
    const updater = new FeedUpdater({ store, entryTtlMs: config.entryTtlMs, now: infra.now });
    let skippedInvalid = 0;
    const bus = withoutDeadLetters(
      connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers })!,
      config.dlqTopic,
      (count) => {
        skippedInvalid += count;
      },
    );
    const groupId = infra.groupId ?? `${config.consumerGroup}-rebuild-${started}`;
    let events = 0;
    logger.info({ groupId, topic: config.topic }, 'replaying the user events from the start of the topic');
    const subscription = await startFeedConsumer({
      bus,
      updater,
      metrics: createFeedMetrics(new Registry()),
      logger,
      groupId,
      topic: config.topic,
      dlqTopic: config.dlqTopic,
      onApplied: (count) => {
        events += count;
      },
    });
    closers.push({ name: 'replay consumer', close: () => subscription.stop() });
    const deadline = started + config.rebuildTimeoutMs;
    let progressAt = 0;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(
          `the replay did not reach the end of ${config.topic} within ${config.rebuildTimeoutMs} ms (FEED_REBUILD_TIMEOUT_SECONDS)`,
        );
      }
      if (subscription.ready) {
        const lag = (await bus.consumerLag(groupId, config.topic).catch(() => undefined))?.reduce(
          (sum, partition) => sum + partition.lag,
          0,
        );
        if (lag === 0) break;
        if (lag !== undefined && Date.now() - progressAt > 10_000) {
          logger.info({ events, lag }, 'replaying');
          progressAt = Date.now();
        }
      }
      await sleep(infra.pollMs ?? 500);
    }
    return { groupId, events, skippedInvalid, durationMs: Date.now() - started };
  } finally {
    await close();
  }
};
