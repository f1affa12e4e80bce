import { kafkaEnv, readKafkaConfig, USER_EVENTS_DLQ_TOPIC, USER_EVENTS_TOPIC, type KafkaConfig } from '@galion/events';
import { commonEnv, env, loadConfig, portEnv, readCommonConfig, redisEnv, withPassword, z, type CommonConfig } from '@galion/kit';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

const DAY_MS = 86_400_000;

/** Every setting of the feed service, read from the environment (docs/feed.md: Configuration). */
export const feedEnvSchema = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...verifierEnv,
  PORT: portEnv(8085),
  // The feed's own: Redis is where the read model lives, so it is required (the kit's is optional).
  REDIS_URL: env
    .url(['redis', 'rediss'])
    .describe(
      'the Redis the feeds live in: a standalone Redis or a Sentinel primary, not Redis Cluster (the scripts name their keys at run time); the token denylist is read there too',
    ),
  REDIS_PASSWORD: redisEnv.REDIS_PASSWORD,
  AUTH_URL: env
    .url(['http', 'https'])
    .optional()
    .describe("auth's base URL: the default JWKS location (`<AUTH_URL>/api/v1/auth/.well-known/jwks.json`)"),
  FEED_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1 to 64 letters, digits, `:`, `_` or `-`')
    .default('galion:feed:')
    .describe('put before every key of the feed in Redis, so it keeps apart from the other users of that Redis'),
  FEED_TOPIC: env.string().default(USER_EVENTS_TOPIC).describe('the topic of user events read'),
  FEED_DLQ_TOPIC: env.string().default(USER_EVENTS_DLQ_TOPIC).describe('where messages that are not valid events are dead-lettered'),
  FEED_CONSUMER_GROUP: env.string().default('feed').describe('Kafka consumer group: replicas share the partitions'),
  FEED_CONSUMER_ENABLED: env
    .bool()
    .default(true)
    .describe('run the consumer in this process (`false`: a read-only replica, to scale the API apart from the consumer)'),
  FEED_MAX_ENTRIES: env
    .int(10, 100_000)
    .default(1_000)
    .describe("entries kept in each home feed and each author's timeline, newest first; a page never reaches further back"),
  FEED_GLOBAL_MAX_ENTRIES: env.int(10, 100_000).default(1_000).describe('entries kept in the global recent-activity feed'),
  FEED_FANOUT_MAX_FOLLOWERS: env
    .int(0, 10_000_000)
    .default(10_000)
    .describe(
      "an author with more followers than this is a big account: their posts stay on their own timeline, which each follower's reads merge in, instead of being copied into every follower's home feed (docs/feed.md: The cap and the merge)",
    ),
  FEED_ENTRY_TTL_DAYS: env
    .int(1, 3_650)
    .default(30)
    .describe('how long an entry lives, counted from its event time: older activity leaves every feed (and is not taken from a replay)'),
  FEED_REBUILD_TIMEOUT_SECONDS: env
    .int(10, 86_400)
    .default(3_600)
    .describe('longest `node dist/rebuild.js` replays before it gives up (exit code 1)'),
});

export type FeedEnv = z.infer<typeof feedEnvSchema>;

export interface FeedConfig extends CommonConfig {
  redisUrl: string;
  redisPrefix: string;
  /** Kafka settings; undefined when KAFKA_BROKERS is unset and a bus is injected (all-in-one). */
  kafka: KafkaConfig | undefined;
  verifier: VerifierConfig;
  topic: string;
  dlqTopic: string;
  consumerGroup: string;
  consumerEnabled: boolean;
  maxEntries: number;
  globalMaxEntries: number;
  fanoutMaxFollowers: number;
  entryTtlMs: number;
  rebuildTimeoutMs: number;
}

export const loadFeedConfig = (source: NodeJS.ProcessEnv = process.env): FeedConfig => {
  const e = loadConfig(feedEnvSchema, source);
  const verifier = readVerifierConfig(e);
  return {
    ...readCommonConfig(e),
    redisUrl: withPassword(e.REDIS_URL, e.REDIS_PASSWORD),
    redisPrefix: e.FEED_REDIS_PREFIX,
    kafka: readKafkaConfig(e, 'galion-feed'),
    verifier: {
      ...verifier,
      jwksUrl: verifier.jwksUrl ?? (e.AUTH_URL ? `${e.AUTH_URL.replace(/\/+$/, '')}/api/v1/auth/.well-known/jwks.json` : undefined),
    },
    topic: e.FEED_TOPIC,
    dlqTopic: e.FEED_DLQ_TOPIC,
    consumerGroup: e.FEED_CONSUMER_GROUP,
    consumerEnabled: e.FEED_CONSUMER_ENABLED,
    maxEntries: e.FEED_MAX_ENTRIES,
    globalMaxEntries: e.FEED_GLOBAL_MAX_ENTRIES,
    fanoutMaxFollowers: e.FEED_FANOUT_MAX_FOLLOWERS,
    entryTtlMs: e.FEED_ENTRY_TTL_DAYS * DAY_MS,
    rebuildTimeoutMs: e.FEED_REBUILD_TIMEOUT_SECONDS * 1000,
  };
};
