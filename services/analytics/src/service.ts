import { connectEventBus, type EventBus, type Subscription } from '@galion/events';
import {
  ConfigError,
  connectStore,
  type ComposedService,
  type KeyValueStore,
  type Knex,
  type Logger,
  httpSettings,
  openServiceWithDatabase,
} from '@galion/kit';
import { createTokenVerifier, type KeySource, type TokenVerifier } from '@galion/tokens';
import { createAnalyticsApp } from './app.js';
import type { AnalyticsConfig } from './config.js';
import { startAnalyticsConsumer } from './consumers/event-consumer.js';
import { EventIngestor } from './domain/ingest.js';
import { Maintenance } from './domain/maintenance.js';
import { createAnalyticsMetrics, registerConsumerLagMetric, type AnalyticsMetrics } from './consumers/metrics.js';
import { AnalyticsQueries } from './domain/queries.js';
import { analyticsMigrations } from './migrations/index.js';
import { ActiveUserRepository } from './repositories/active-users.js';
import { EventRepository } from './repositories/events.js';
import { PartitionRepository } from './repositories/partitions.js';
import { RollupRepository } from './repositories/rollups.js';

export { analyticsEnvSchema, loadAnalyticsConfig, type AnalyticsConfig } from './config.js';
export { analyticsMigrations } from './migrations/index.js';

export interface AnalyticsInfrastructure {
  logger: Logger;
  /** An event bus shared in one process (all-in-one, tests); otherwise Kafka from KAFKA_BROKERS. */
  bus?: EventBus;
  /** A store shared with other services in one process (the token denylist); otherwise Redis from config. */
  store?: KeyValueStore;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS (AUTH_JWKS_URL). */
  keys?: KeySource;
  /** A ready verifier (tests, or a runner that shares one); takes precedence over `keys`. */
  verifier?: TokenVerifier;
  /** Create the database when missing (all-in-one and tests). */
  createDatabase?: boolean;
  /** The clock (tests). */
  now?: () => Date;
}

export interface AnalyticsConsumerHandle {
  /** The subscription once the consumer has started; undefined before, or when disabled. */
  readonly subscription: Subscription | undefined;
  /** Resolves once the consumer has subscribed (or given up because the service is stopping). */
  readonly started: Promise<void>;
}

export interface ComposedAnalytics extends ComposedService {
  knex: Knex;
  ingestor: EventIngestor;
  queries: AnalyticsQueries;
  maintenance: Maintenance;
  analyticsMetrics: AnalyticsMetrics;
  verifier: TokenVerifier;
  consumer: AnalyticsConsumerHandle | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Composes the analytics service from its configuration: clients, domain, consumer, app, health, shutdown hooks. */
export const composeAnalytics = async (config: AnalyticsConfig, infra: AnalyticsInfrastructure): Promise<ComposedAnalytics> => {
  const { logger } = infra;
  if (!infra.verifier && !infra.keys && !config.verifier.jwksUrl) {
    throw new ConfigError(
      'Invalid configuration, fix these environment variables:\n  AUTH_JWKS_URL: required to verify access tokens (not set)',
    );
  }
  if (config.consumerEnabled && !infra.bus && !config.kafka) {
    throw new ConfigError(
      'Invalid configuration, fix these environment variables:\n  KAFKA_BROKERS: required while ANALYTICS_CONSUMER_ENABLED is true (not set)',
    );
  }
  const { closers, metrics, health, knex } = await openServiceWithDatabase({
    service: 'analytics',
    config,
    migrations: analyticsMigrations,
    logger,
    create: infra.createDatabase,
  });
  const analyticsMetrics = createAnalyticsMetrics(metrics.registry);

  const events = new EventRepository(knex);
  const partitions = new PartitionRepository(knex);
  const rollups = new RollupRepository(knex);
  const activeUsers = new ActiveUserRepository(knex);
  const now = infra.now;
  const ingestor = new EventIngestor({ events, activeUsers, partitions, retentionDays: config.retentionDays, logger, now });
  const queries = new AnalyticsQueries({ events, rollups, activeUsers, retentionDays: config.retentionDays, now });
  const maintenance = new Maintenance({
    partitions,
    rollups,
    activeUsers,
    retentionDays: config.retentionDays,
    rollupRetentionDays: config.rollupRetentionDays,
    logger,
    now,
  });
  const stopMaintenance = maintenance.schedule(config.maintenanceIntervalMs);
  closers.push({ name: 'maintenance', close: stopMaintenance });

  const verifier =
    infra.verifier ??
    createTokenVerifier(config.verifier, {
      keys: infra.keys,
      store: await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers }),
      logger,
    });

  let consumer: AnalyticsConsumerHandle | undefined;
  if (config.consumerEnabled) {
    const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers })!;
    registerConsumerLagMetric(metrics.registry, { bus, groupId: config.consumerGroup, topic: config.topic, logger });
    consumer = startConsumerInBackground(bus, { config, ingestor, analyticsMetrics, logger }, closers);
    health.addCheck('consumer', async () => {
      if (!consumer?.subscription?.ready) throw new Error('not joined to its consumer group yet');
    });
  } else {
    logger.info('the consumer is disabled (ANALYTICS_CONSUMER_ENABLED=false): this process only answers queries');
  }

  const app = createAnalyticsApp({
    logger,
    metrics,
    health,
    queries,
    verifier,
    ...httpSettings(config),
  });
  return { app, metrics, health, closers, knex, ingestor, queries, maintenance, analyticsMetrics, verifier, consumer };
};

/**
 * Subscribes in the background, retrying while the broker or the topic is not there yet, so the
 * service starts (and answers queries) while Kafka is still coming up; readiness waits for the group.
 */
const startConsumerInBackground = (
  bus: EventBus,
  deps: { config: AnalyticsConfig; ingestor: EventIngestor; analyticsMetrics: AnalyticsMetrics; logger: Logger },
  closers: ComposedService['closers'],
): AnalyticsConsumerHandle => {
  const { config, logger } = deps;
  let subscription: Subscription | undefined;
  let stopping = false;
  const started = (async () => {
    for (let attempt = 1; !stopping; attempt += 1) {
      try {
        const started = await startAnalyticsConsumer({
          bus,
          ingestor: deps.ingestor,
          metrics: deps.analyticsMetrics,
          logger,
          groupId: config.consumerGroup,
          topic: config.topic,
          dlqTopic: config.dlqTopic,
        });
        if (stopping) await started.stop();
        else subscription = started;
        return;
      } catch (error) {
        logger.warn({ err: error, attempt, topic: config.topic }, 'starting the event consumer failed; retrying');
        await sleep(Math.min(5_000, 250 * attempt));
      }
    }
  })();
  closers.push({
    name: 'event consumer',
    // Not waiting for a start still under way (it may be waiting for the broker): it sees `stopping` and stops.
    close: async () => {
      stopping = true;
      await subscription?.stop();
    },
  });
  return {
    get subscription() {
      return subscription;
    },
    started,
  };
};
