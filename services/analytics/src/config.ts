import {
  APP_EVENTS_DLQ_TOPIC,
  APP_EVENTS_TOPIC,
  kafkaEnv,
  readKafkaConfig,
  USER_EVENTS_DLQ_TOPIC,
  USER_EVENTS_TOPIC,
  type KafkaConfig,
} from '@galion/events';
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
import { DEFAULT_MAX_RAW_RANGE_DAYS } from './domain/app-queries.js';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

/** Every setting of the analytics service, read from the environment (docs/analytics.md: Configuration). */
export const analyticsEnvSchema = z
  .object({
    ...commonEnv,
    ...kafkaEnv,
    ...verifierEnv,
    PORT: portEnv(8083),
    ...databaseEnv,
    ...redisEnv,
    ANALYTICS_TOPIC: env.string().default(USER_EVENTS_TOPIC).describe('the topic of user events read'),
    ANALYTICS_DLQ_TOPIC: env.string().default(USER_EVENTS_DLQ_TOPIC).describe('where messages that are not valid events are dead-lettered'),
    ANALYTICS_CONSUMER_GROUP: env.string().default('analytics').describe('Kafka consumer group: replicas share the partitions'),
    ANALYTICS_CONSUMER_ENABLED: env
      .bool()
      .default(true)
      .describe('run the consumer in this process (`false`: a query-only replica, to scale the API apart from the consumer)'),
    ANALYTICS_RETENTION_DAYS: env.int(1, 3_650).default(90).describe('raw events older than this are dropped (whole daily partitions)'),
    ANALYTICS_ROLLUP_RETENTION_DAYS: env
      .int(1, 36_500)
      .default(730)
      .describe('hourly and daily rollups are kept this long (at least `ANALYTICS_RETENTION_DAYS`)'),
    ANALYTICS_APP_TOPIC: env.string().default(APP_EVENTS_TOPIC).describe('the topic the tracking API writes application events to, and the consumer reads'),
    ANALYTICS_APP_DLQ_TOPIC: env.string().default(APP_EVENTS_DLQ_TOPIC).describe('where application-event messages that are not valid are dead-lettered'),
    ANALYTICS_APP_CONSUMER_GROUP: env.string().default('analytics-app').describe('Kafka consumer group of the application-event consumer'),
    ANALYTICS_APP_QUERY_MAX_DAYS: env
      .int(1, 3_650)
      .optional()
      .meta({
        description: 'longest range the application-event breakdowns (names, uniques, pages, referrers, properties, funnels) read from raw events',
        unset: '31, or `ANALYTICS_RETENTION_DAYS` when shorter',
      }),
    ANALYTICS_TRACK_USER_EVENTS_PER_MINUTE: env
      .int(1, 10_000_000)
      .default(6_000)
      .describe('events per minute one signed-in user may send to the tracking API (sites have their own limit)'),
    ANALYTICS_TRACK_PUBLISH_TIMEOUT_MS: env
      .int(100, 60_000)
      .default(2_000)
      .describe('how long the tracking API waits for Kafka to acknowledge a batch before answering 503'),
    ANALYTICS_MAINTENANCE_INTERVAL_SECONDS: env
      .int(10, 86_400)
      .default(3_600)
      .describe('how often partitions are created ahead and retention runs'),
  })
  .refine((value) => value.ANALYTICS_ROLLUP_RETENTION_DAYS >= value.ANALYTICS_RETENTION_DAYS, {
    message: 'rollups must be kept at least as long as raw events (ANALYTICS_RETENTION_DAYS)',
    path: ['ANALYTICS_ROLLUP_RETENTION_DAYS'],
  })
  .refine((value) => (value.ANALYTICS_APP_QUERY_MAX_DAYS ?? 0) <= value.ANALYTICS_RETENTION_DAYS, {
    message: 'the breakdowns read raw events, which are kept ANALYTICS_RETENTION_DAYS',
    path: ['ANALYTICS_APP_QUERY_MAX_DAYS'],
  })
  .refine((value) => !value.KAFKA_SASL_MECHANISM || (value.KAFKA_SASL_USERNAME && value.KAFKA_SASL_PASSWORD), {
    message: 'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    path: ['KAFKA_SASL_PASSWORD'],
  });

export type AnalyticsEnv = z.infer<typeof analyticsEnvSchema>;

export interface AnalyticsConfig extends CommonConfig, DatabaseConfig {
  redisUrl: string | undefined;
  /** Kafka settings; undefined when KAFKA_BROKERS is unset and a bus is injected (all-in-one). */
  kafka: KafkaConfig | undefined;
  /** How access tokens are verified (auth's JWKS, unless keys are injected in-process). */
  verifier: VerifierConfig;
  topic: string;
  dlqTopic: string;
  consumerGroup: string;
  consumerEnabled: boolean;
  appTopic: string;
  appDlqTopic: string;
  appConsumerGroup: string;
  appQueryMaxDays: number;
  trackUserEventsPerMinute: number;
  trackPublishTimeoutMs: number;
  retentionDays: number;
  rollupRetentionDays: number;
  maintenanceIntervalMs: number;
}

export const loadAnalyticsConfig = (source: NodeJS.ProcessEnv = process.env): AnalyticsConfig => {
  const e = loadConfig(analyticsEnvSchema, source);
  return {
    ...readCommonConfig(e),
    ...readDatabaseConfig(e),
    redisUrl: readRedisUrl(e),
    kafka: readKafkaConfig(e, 'galion-analytics'),
    verifier: readVerifierConfig(e),
    topic: e.ANALYTICS_TOPIC,
    dlqTopic: e.ANALYTICS_DLQ_TOPIC,
    consumerGroup: e.ANALYTICS_CONSUMER_GROUP,
    consumerEnabled: e.ANALYTICS_CONSUMER_ENABLED,
    appTopic: e.ANALYTICS_APP_TOPIC,
    appDlqTopic: e.ANALYTICS_APP_DLQ_TOPIC,
    appConsumerGroup: e.ANALYTICS_APP_CONSUMER_GROUP,
    appQueryMaxDays: e.ANALYTICS_APP_QUERY_MAX_DAYS ?? Math.min(DEFAULT_MAX_RAW_RANGE_DAYS, e.ANALYTICS_RETENTION_DAYS),
    trackUserEventsPerMinute: e.ANALYTICS_TRACK_USER_EVENTS_PER_MINUTE,
    trackPublishTimeoutMs: e.ANALYTICS_TRACK_PUBLISH_TIMEOUT_MS,
    retentionDays: e.ANALYTICS_RETENTION_DAYS,
    rollupRetentionDays: e.ANALYTICS_ROLLUP_RETENTION_DAYS,
    maintenanceIntervalMs: e.ANALYTICS_MAINTENANCE_INTERVAL_SECONDS * 1000,
  };
};
