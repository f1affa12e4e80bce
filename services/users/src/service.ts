import { type EventBus, type OutboxRelay, startTwoWayEventFlow } from '@galion/events';
import { connectStore, type ComposedService, type KeyValueStore, type Logger, httpSettings, openServiceWithDatabase } from '@galion/kit';
import { createTokenVerifier, StoreDenylist, type KeySource, type TokenVerifier } from '@galion/tokens';
import { createUsersApp } from './app.js';
import type { UsersConfig } from './config.js';
import { HttpAuthAccounts } from './domain/auth-accounts.js';
import { FollowService } from './domain/follow-service.js';
import { ProfileCache } from './domain/profile-cache.js';
import { ProfileService } from './domain/profile-service.js';
import { usersMigrations } from './migrations/index.js';
import { FollowRepository } from './repositories/follows.js';
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
  follows: FollowService;
  verifier: TokenVerifier;
  relay: OutboxRelay | undefined;
}

/** Composes the users service: database, store, bus, consumer, relay, app and health. */
export const composeUsers = async (config: UsersConfig, infra: UsersInfrastructure): Promise<ComposedUsers> => {
  const { logger } = infra;
  const { closers, metrics, health, knex } = await openServiceWithDatabase({
    service: 'users',
    config,
    migrations: usersMigrations,
    logger,
    create: infra.createDatabase,
  });

  const store = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });
  const verifier = createTokenVerifier(config.verifier, { keys: infra.keys, store, logger });
  const profileRepository = new ProfileRepository(knex);
  const followRepository = new FollowRepository(knex);
  const profiles = new ProfileService({
    knex,
    profiles: profileRepository,
    follows: followRepository,
    cache: new ProfileCache(store, config.cacheTtlSeconds),
    authAccounts: config.authUrl ? new HttpAuthAccounts(config.authUrl) : undefined,
    denylist: new StoreDenylist(store),
    logger,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  });
  const follows = new FollowService({
    knex,
    follows: followRepository,
    profiles: profileRepository,
    ensureProfile: (claims, bearerToken) => profiles.ensureProfile(claims, bearerToken),
  });

  const { relay } = await startTwoWayEventFlow({
    injected: infra.bus,
    config,
    knex,
    logger,
    registry: metrics.registry,
    closers,
    apply: (event, trx) => profiles.applyEvent(event, trx),
    beforeBatch: (events, trx) => profiles.lockSubjects(events, trx),
  });

  const app = createUsersApp({
    logger,
    metrics,
    health,
    profiles,
    follows,
    verifier,
    ...httpSettings(config),
  });
  return { app, metrics, health, closers, profiles, follows, verifier, relay };
};
