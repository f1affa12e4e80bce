import { connectEventBus, startEventConsumer, startOutboxRelay, type EventBus, type OutboxRelay } from '@galion/events';
import {
  connectStore,
  createDatabase,
  createMetrics,
  ensureDatabaseExists,
  Health,
  instrumentDatabasePool,
  migrateLatest,
  pingDatabase,
  type ComposedService,
  type KeyValueStore,
  type Logger,
} from '@galion/kit';
import { createTokenVerifier, StoreDenylist, type KeySource, type TokenVerifier } from '@galion/tokens';
import { createUsersApp } from './app.js';
import type { UsersConfig } from './config.js';
import { HttpAuthAccounts } from './domain/auth-accounts.js';
import { ProfileCache } from './domain/profile-cache.js';
import { ProfileService } from './domain/profile-service.js';
import { usersMigrations } from './migrations/index.js';
import { ProfileRepository } from './repositories/profiles.js';

export { loadUsersConfig, type UsersConfig } from './config.js';

export interface UsersInfrastructure {
  logger: Logger;
  /** Shared in one process (all-in-one); otherwise Redis or memory from config. */
  store?: KeyValueStore;
  /** Shared in one process (all-in-one); otherwise Kafka from config. */
  bus?: EventBus;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS. */
  keys?: KeySource;
  createDatabase?: boolean;
}

export interface ComposedUsers extends ComposedService {
  profiles: ProfileService;
  verifier: TokenVerifier;
  relay: OutboxRelay | undefined;
}

/** Composes the users service: database, store, bus, consumer, relay, app and health. */
export const composeUsers = async (config: UsersConfig, infra: UsersInfrastructure): Promise<ComposedUsers> => {
  const { logger } = infra;
  const closers: ComposedService['closers'] = [];
  const metrics = createMetrics();
  const health = new Health();

  if (infra.createDatabase) await ensureDatabaseExists(config.database.url);
  const knex = createDatabase({ url: config.database.url, poolMax: config.database.poolMax, applicationName: 'galion-users', ssl: config.database.ssl, logger });
  closers.push({ name: 'postgres', close: () => knex.destroy() });
  instrumentDatabasePool(metrics.registry, knex);
  health.addCheck('postgres', () => pingDatabase(knex));
  if (config.migrateOnStart) {
    const applied = await migrateLatest(knex, usersMigrations);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  }

  const store = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });
  const verifier = createTokenVerifier(config.verifier, { keys: infra.keys, store, logger });
  const profiles = new ProfileService({
    knex,
    profiles: new ProfileRepository(knex),
    cache: new ProfileCache(store, config.cacheTtlSeconds),
    authAccounts: config.authUrl ? new HttpAuthAccounts(config.authUrl) : undefined,
    denylist: new StoreDenylist(store),
    logger,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  });

  const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers });
  const relay = startOutboxRelay({ bus, outbox: config.outbox, knex, logger, registry: metrics.registry, closers });
  if (bus) {
    const subscription = await startEventConsumer({
      bus,
      groupId: config.consumerGroup,
      logger,
      handle: (events) =>
        knex.transaction(async (trx) => {
          for (const { event } of events) await profiles.applyEvent(event, trx);
        }),
    });
    closers.push({ name: 'event consumer', close: () => subscription.stop() });
  }

  const app = createUsersApp({
    logger,
    metrics,
    health,
    profiles,
    verifier,
    corsOrigins: config.corsOrigins,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    serveMetrics: config.metricsPort === undefined || config.metricsPort === config.port,
  });
  return { app, metrics, health, closers, profiles, verifier, relay };
};
