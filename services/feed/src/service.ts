import { connectEventBus, type EventBus, startConsumerInBackground, type ConsumerHandle } from '@galion/events';
import {
  ConfigError,
  createMetrics,
  Health,
  httpSettings,
  RedisStore,
  type Closers,
  type ComposedService,
  type KeyValueStore,
  type Logger,
} from '@galion/kit';
import { createTokenVerifier, type KeySource, type TokenVerifier } from '@galion/tokens';
import type { Redis } from 'ioredis';
import { createFeedApp } from './app.js';
import type { FeedConfig } from './config.js';
import { startFeedConsumer } from './consumers/event-consumer.js';
import { createFeedMetrics, registerConsumerLagMetric, type FeedMetrics } from './consumers/metrics.js';
import { FeedReader } from './domain/feed-reader.js';
import { FeedUpdater } from './domain/feed-updater.js';
import type { FeedStore } from './repositories/feed-store.js';
import { connectFeedRedis, feedStoreOf } from './store.js';

export { feedEnvSchema, loadFeedConfig, type FeedConfig } from './config.js';
export { feedGatewayRoutes } from './app.js';
export { rebuildFeed, type RebuildReport } from './replay.js';

export interface FeedInfrastructure {
  logger: Logger;
  /** An event bus shared in one process (all-in-one, tests); otherwise Kafka from KAFKA_BROKERS. */
  bus?: EventBus;
  /** A Redis client to keep the feeds in (shared in one process); otherwise one to REDIS_URL. It is not closed here. */
  redis?: Redis;
  /** The store of the token denylist, shared in one process (all-in-one); otherwise Redis (prefix `galion:`). */
  store?: KeyValueStore;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS (AUTH_JWKS_URL or AUTH_URL). */
  keys?: KeySource;
  /** A ready verifier (tests); takes precedence over `keys`. */
  verifier?: TokenVerifier;
  /** The clock (tests). */
  now?: () => Date;
}

export interface ComposedFeed extends ComposedService {
  store: FeedStore;
  updater: FeedUpdater;
  reader: FeedReader;
  feedMetrics: FeedMetrics;
  verifier: TokenVerifier;
  /** The consumer; undefined when disabled (FEED_CONSUMER_ENABLED=false). */
  consumer: ConsumerHandle | undefined;
}


const invalid = (line: string) => new ConfigError(`Invalid configuration, fix these environment variables:\n  ${line}`);

/** Composes the feed service from its configuration: Redis, verifier, domain, consumer, app, health, shutdown hooks. */
export const composeFeed = async (config: FeedConfig, infra: FeedInfrastructure): Promise<ComposedFeed> => {
  const { logger } = infra;
  if (!infra.verifier && !infra.keys && !config.verifier.jwksUrl) {
    throw invalid('AUTH_JWKS_URL: required to verify access tokens, or AUTH_URL to derive it (not set)');
  }
  if (!infra.bus && !config.kafka && config.consumerEnabled) {
    throw invalid('KAFKA_BROKERS: required: the feeds are kept from the user events (not set)');
  }
  const closers: Closers = [];
  const metrics = createMetrics({ build: config.build });
  const health = new Health();
  const feedMetrics = createFeedMetrics(metrics.registry);

  const redis = await connectFeedRedis(config, infra, closers);
  const store = feedStoreOf(redis, config);
  health.addCheck('redis', () => store.ping());
  const verifier =
    infra.verifier ??
    createTokenVerifier(config.verifier, { keys: infra.keys, store: infra.store ?? new RedisStore(redis, 'galion:'), logger });

  const updater = new FeedUpdater({ store, entryTtlMs: config.entryTtlMs, now: infra.now });
  const reader = new FeedReader({
    store,
    maxEntries: config.maxEntries,
    globalMaxEntries: config.globalMaxEntries,
    entryTtlMs: config.entryTtlMs,
    now: infra.now,
    onMerge: (timelines) => feedMetrics.mergedTimelines.observe(timelines),
  });

  let consumer: ConsumerHandle | undefined;
  if (config.consumerEnabled) {
    const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers })!;
    const { consumerGroup: groupId, topic, dlqTopic } = config;
    registerConsumerLagMetric(metrics.registry, { bus, groupId, topic, logger });
    consumer = startConsumerInBackground(
      () => startFeedConsumer({ bus, updater, metrics: feedMetrics, logger, groupId, topic, dlqTopic }),
      { topic, logger },
      closers,
    );
    health.addCheck('consumer', async () => {
      if (!consumer?.subscription?.ready) throw new Error('not joined to its consumer group yet');
    });
  } else {
    logger.info('the consumer is disabled (FEED_CONSUMER_ENABLED=false): this process only answers reads');
  }

  const app = createFeedApp({ logger, metrics, health, reader, verifier, ...httpSettings(config) });
  return { app, metrics, health, closers, store, updater, reader, feedMetrics, verifier, consumer };
};
