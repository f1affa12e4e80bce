import { kafkaEnv, outboxEnv, readKafkaConfig, readOutboxConfig, type KafkaConfig, type OutboxConfig } from '@galion/events';
import {
  commonEnv,
  databaseEnv,
  env,
  loadConfig,
  portEnv,
  readCommonConfig,
  readDatabaseConfig,
  readRedisUrl,
  redisEnv,
  z,
  type CommonConfig,
  type DatabaseConfig,
} from '@galion/kit';
import { accessTokenTtlEnv, readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

/** Every setting of the users service, read from the environment (README: Configuration). */
export const usersEnvSchema = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...outboxEnv,
  ...verifierEnv,
  PORT: portEnv(8082),
  ...databaseEnv,
  ...redisEnv,
  AUTH_URL: env
    .url(['http', 'https'])
    .optional()
    .describe("auth's base URL, to fill a profile whose registration event has not arrived yet; also the default JWKS location"),
  USERS_CACHE_TTL_SECONDS: env
    .int(0, 86_400)
    .default(60)
    .describe('profile cache lifetime in Redis (`0` turns the cache off); every change invalidates'),
  USERS_CONSUMER_GROUP: env.string().default('users').describe('Kafka consumer group'),
  ACCESS_TOKEN_TTL_SECONDS: accessTokenTtlEnv.describe(
    "auth's `AUTH_ACCESS_TOKEN_TTL_SECONDS`, so revocations last as long as the tokens they refuse (the chart sets both from `global.accessTokenTtlSeconds`)",
  ),
});

export interface UsersConfig extends CommonConfig, DatabaseConfig {
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
    ...readDatabaseConfig(e),
    redisUrl: readRedisUrl(e),
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
