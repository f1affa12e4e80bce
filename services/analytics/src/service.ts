import { CoalescingPublisher, connectEventBus, ensureTopicsInBackground, type EventBus, startConsumerInBackground, type ConsumerHandle } from '@galion/events';
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
import { startAppEventConsumer } from './consumers/app-event-consumer.js';
import { startAnalyticsConsumer } from './consumers/event-consumer.js';
import { AppEventIngestor } from './domain/app-ingest.js';
import { AppEventQueries } from './domain/app-queries.js';
import { EventCollector } from './domain/collector.js';
import { EventIngestor } from './domain/ingest.js';
import { SiteRegistry } from './domain/sites.js';
import { UserAgentParser } from './domain/user-agent.js';
import { Maintenance } from './domain/maintenance.js';
import { createAnalyticsMetrics, registerConsumerLagMetric, type AnalyticsMetrics } from './consumers/metrics.js';
import { AnalyticsQueries } from './domain/queries.js';
import { analyticsMigrations } from './migrations/index.js';
import { ActiveUserRepository } from './repositories/active-users.js';
import { AppEventQueryRepository, AppEventRepository } from './repositories/app-events.js';
import { ErasureRepository } from './repositories/erasure.js';
import { EventRepository } from './repositories/events.js';
import { PartitionRepository } from './repositories/partitions.js';
import { RollupRepository } from './repositories/rollups.js';
import { SiteRepository } from './repositories/sites.js';
import { VisitorSaltRepository } from './repositories/visitor-salts.js';

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

export interface ComposedAnalytics extends ComposedService {
  knex: Knex;
  ingestor: EventIngestor;
  appIngestor: AppEventIngestor;
  queries: AnalyticsQueries;
  appQueries: AppEventQueries;
  collector: EventCollector;
  sites: SiteRegistry;
  maintenance: Maintenance;
  analyticsMetrics: AnalyticsMetrics;
  verifier: TokenVerifier;
  /** The platform-event consumer; undefined when disabled. */
  consumer: ConsumerHandle | undefined;
  /** The application-event consumer; undefined when disabled. */
  appConsumer: ConsumerHandle | undefined;
}



/** Composes the analytics service from its configuration: clients, domain, consumer, app, health, shutdown hooks. */
export const composeAnalytics = async (config: AnalyticsConfig, infra: AnalyticsInfrastructure): Promise<ComposedAnalytics> => {
  const { logger } = infra;
  if (!infra.verifier && !infra.keys && !config.verifier.jwksUrl) {
    throw new ConfigError(
      'Invalid configuration, fix these environment variables:\n  AUTH_JWKS_URL: required to verify access tokens (not set)',
    );
  }
  if (!infra.bus && !config.kafka) {
    throw new ConfigError(
      'Invalid configuration, fix these environment variables:\n  KAFKA_BROKERS: required: the consumers read Kafka and the tracking API writes to it (not set)',
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
  const appPartitions = new PartitionRepository(knex, 'app_events');
  const rollups = new RollupRepository(knex);
  const activeUsers = new ActiveUserRepository(knex);
  const erasure = new ErasureRepository(knex);
  const appEventQueries = new AppEventQueryRepository(knex);
  const salts = new VisitorSaltRepository(knex);
  const now = infra.now;
  const { retentionDays } = config;
  const ingestor = new EventIngestor({ events, activeUsers, partitions, erasure, retentionDays, logger, now });
  const appIngestor = new AppEventIngestor({ appEvents: new AppEventRepository(knex), partitions: appPartitions, retentionDays, logger, now });
  const queries = new AnalyticsQueries({ events, rollups, activeUsers, retentionDays, now });
  const appQueries = new AppEventQueries({ queries: appEventQueries, maxRawRangeDays: config.appQueryMaxDays, now });
  const maintenance = new Maintenance({
    partitions: [partitions, appPartitions],
    rollups,
    appCounts: appEventQueries,
    activeUsers,
    salts,
    retentionDays,
    rollupRetentionDays: config.rollupRetentionDays,
    logger,
    now,
  });
  const stopMaintenance = maintenance.schedule(config.maintenanceIntervalMs);
  closers.push({ name: 'maintenance', close: stopMaintenance });

  const store = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });
  const verifier = infra.verifier ?? createTokenVerifier(config.verifier, { keys: infra.keys, store, logger });

  const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers })!;
  // The tracking API writes the app-events topic: it makes sure the configured one exists.
  const appTopics = ensureTopicsInBackground(
    bus,
    [
      { name: config.appTopic, partitions: config.kafka?.partitions ?? 1 },
      { name: config.appDlqTopic, partitions: 1 },
    ],
    logger,
  );
  closers.push({ name: 'app topic set-up', close: async () => appTopics.cancel() });
  const sites = new SiteRegistry(new SiteRepository(knex), now);
  const collector = new EventCollector({
    sites,
    salts,
    publisher: new CoalescingPublisher(bus, config.appTopic, { timeoutMs: config.trackPublishTimeoutMs }),
    counters: store,
    userAgents: new UserAgentParser(),
    userEventsPerMinute: config.trackUserEventsPerMinute,
    onOutcome: (accepted, refused) => {
      if (accepted > 0) analyticsMetrics.trackedEvents.inc({ outcome: 'accepted' }, accepted);
      if (refused > 0) analyticsMetrics.trackedEvents.inc({ outcome: 'refused' }, refused);
    },
    now,
  });

  let consumer: ConsumerHandle | undefined;
  let appConsumer: ConsumerHandle | undefined;
  if (config.consumerEnabled) {
    registerConsumerLagMetric(metrics.registry, {
      bus,
      subscriptions: [
        { groupId: config.consumerGroup, topic: config.topic },
        { groupId: config.appConsumerGroup, topic: config.appTopic },
      ],
      logger,
    });
    const { consumerGroup: groupId, topic, dlqTopic } = config;
    consumer = startConsumerInBackground(
      () => startAnalyticsConsumer({ bus, ingestor, metrics: analyticsMetrics, logger, groupId, topic, dlqTopic }),
      { topic, logger },
      closers,
    );
    appConsumer = startConsumerInBackground(
      () =>
        startAppEventConsumer({
          bus,
          ingestor: appIngestor,
          metrics: analyticsMetrics,
          logger,
          groupId: config.appConsumerGroup,
          topic: config.appTopic,
          dlqTopic: config.appDlqTopic,
        }),
      { topic: config.appTopic, logger },
      closers,
    );
    health.addCheck('consumer', async () => {
      if (!consumer?.subscription?.ready) throw new Error('not joined to its consumer group yet');
      if (!appConsumer?.subscription?.ready) throw new Error('the application-event consumer has not joined its group yet');
    });
  } else {
    logger.info('the consumers are disabled (ANALYTICS_CONSUMER_ENABLED=false): this process answers queries and the tracking API');
  }

  const app = createAnalyticsApp({
    logger,
    metrics,
    health,
    queries,
    appQueries,
    collector,
    sites,
    verifier,
    ...httpSettings(config),
  });
  return {
    app,
    metrics,
    health,
    closers,
    knex,
    ingestor,
    appIngestor,
    queries,
    appQueries,
    collector,
    sites,
    maintenance,
    analyticsMetrics,
    verifier,
    consumer,
    appConsumer,
  };
};
