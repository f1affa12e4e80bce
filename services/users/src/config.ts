import { kafkaEnv, outboxEnv, readKafkaConfig, readOutboxConfig, type KafkaConfig, type OutboxConfig } from '@galion/events';
import { commonEnv, env, loadConfig, readCommonConfig, withPassword, z, type CommonConfig } from '@galion/kit';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

/** Every setting of the users service, read from the environment (README: Configuration). */
export const usersEnvSchema = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...outboxEnv,
  ...verifierEnv,
  PORT: env.int(0, 65_535).default(8082),
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  DATABASE_PASSWORD: env.string().optional(),
  DATABASE_POOL_MAX: env.int(1, 200).default(10),
  DATABASE_SSL: env.bool().default(false),
  MIGRATE_ON_START: env.bool().default(false),
  REDIS_URL: env.url(['redis', 'rediss']).optional(),
  REDIS_PASSWORD: env.string().optional(),
  AUTH_URL: env.url(['http', 'https']).optional(),
  USERS_CACHE_TTL_SECONDS: env.int(0, 86_400).default(60),
  USERS_CONSUMER_GROUP: env.string().default('users'),
  ACCESS_TOKEN_TTL_SECONDS: env.int(30, 86_400).default(900),
});

export interface UsersConfig extends CommonConfig {
  database: { url: string; poolMax: number; ssl: boolean };
  migrateOnStart: boolean;
  redisUrl: string | undefined;
  kafka: KafkaConfig | undefined;
  outbox: OutboxConfig;
  verifier: VerifierConfig;
  /** Where auth answers `GET /api/v1/auth/me`, to fill a profile whose registration event has not arrived. */
  authUrl: string | undefined;
  cacheTtlSeconds: number;
  consumerGroup: string;
  /** How long access tokens live, so a revocation of all of a user's tokens lasts long enough. */
  accessTokenTtlSeconds: number;
}

export const loadUsersConfig = (source: NodeJS.ProcessEnv = process.env): UsersConfig => {
  const e = loadConfig(usersEnvSchema, source);
  const verifier = readVerifierConfig(e);
  return {
    ...readCommonConfig(e),
    database: { url: withPassword(e.DATABASE_URL, e.DATABASE_PASSWORD), poolMax: e.DATABASE_POOL_MAX, ssl: e.DATABASE_SSL },
    migrateOnStart: e.MIGRATE_ON_START,
    redisUrl: e.REDIS_URL ? withPassword(e.REDIS_URL, e.REDIS_PASSWORD) : undefined,
    kafka: readKafkaConfig(e, 'galion-users'),
    outbox: readOutboxConfig(e),
    verifier: {
      ...verifier,
      jwksUrl: verifier.jwksUrl ?? (e.AUTH_URL ? `${e.AUTH_URL.replace(/\/+$/, '')}/api/v1/auth/.well-known/jwks.json` : undefined),
    },
    authUrl: e.AUTH_URL?.replace(/\/+$/, ''),
    cacheTtlSeconds: e.USERS_CACHE_TTL_SECONDS,
    consumerGroup: e.USERS_CONSUMER_GROUP,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
  };
};
