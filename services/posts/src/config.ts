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
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

/** Every setting of the posts service, read from the environment (docs/posts.md: Configuration). */
export const postsEnvSchema = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...outboxEnv,
  ...verifierEnv,
  PORT: portEnv(8084),
  ...databaseEnv,
  ...redisEnv,
  AUTH_URL: env
    .url(['http', 'https'])
    .optional()
    .describe("auth's base URL: the default JWKS location (`<AUTH_URL>/api/v1/auth/.well-known/jwks.json`)"),
  POSTS_SEARCH_LANGUAGE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be the name of a PostgreSQL text search configuration, such as english or simple')
    .default('english')
    .describe(
      'the PostgreSQL text search configuration of search (`english`, `french`, `simple`, …; checked against `pg_ts_config` at start): posts are indexed with it when written, queries are parsed with it',
    ),
  POSTS_SEARCH_RANKED_MATCHES: env
    .int(100, 100_000)
    .default(1_000)
    .describe(
      'how many matches of a search are ranked: the newest published posts that match, so a common word costs the same as a rare one; older matches are not found',
    ),
  POSTS_PUBLIC_MAX_AGE_SECONDS: env
    .int(0, 86_400)
    .default(60)
    .describe('`Cache-Control: public, max-age=` of public reads of published posts, their comments, lists and search'),
  POSTS_CONSUMER_GROUP: env.string().default('posts').describe('Kafka consumer group'),
});

export interface PostsConfig extends CommonConfig, DatabaseConfig {
  redisUrl: string | undefined;
  kafka: KafkaConfig | undefined;
  outbox: OutboxConfig;
  verifier: VerifierConfig;
  /** A PostgreSQL text search configuration (regconfig), checked against pg_ts_config at start. */
  searchLanguage: string;
  /** How many of the newest matches of a search are ranked. */
  searchRankedMatches: number;
  publicMaxAgeSeconds: number;
  consumerGroup: string;
}

export const loadPostsConfig = (source: NodeJS.ProcessEnv = process.env): PostsConfig => {
  const e = loadConfig(postsEnvSchema, source);
  const verifier = readVerifierConfig(e);
  return {
    ...readCommonConfig(e),
    ...readDatabaseConfig(e),
    redisUrl: readRedisUrl(e),
    kafka: readKafkaConfig(e, 'galion-posts'),
    outbox: readOutboxConfig(e),
    verifier: {
      ...verifier,
      jwksUrl: verifier.jwksUrl ?? (e.AUTH_URL ? `${e.AUTH_URL.replace(/\/+$/, '')}/api/v1/auth/.well-known/jwks.json` : undefined),
    },
    searchLanguage: e.POSTS_SEARCH_LANGUAGE,
    searchRankedMatches: e.POSTS_SEARCH_RANKED_MATCHES,
    publicMaxAgeSeconds: e.POSTS_PUBLIC_MAX_AGE_SECONDS,
    consumerGroup: e.POSTS_CONSUMER_GROUP,
  };
};
