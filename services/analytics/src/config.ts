import { kafkaEnv, readKafkaConfig, USER_EVENTS_DLQ_TOPIC, USER_EVENTS_TOPIC, type KafkaConfig } from '@galion/events';
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
    ANALYTICS_MAINTENANCE_INTERVAL_SECONDS: env
      .int(10, 86_400)
      .default(3_600)
      .describe('how often partitions are created ahead and retention runs'),
  })
  .refine((value) => value.ANALYTICS_ROLLUP_RETENTION_DAYS >= value.ANALYTICS_RETENTION_DAYS, {
    message: 'rollups must be kept at least as long as raw events (ANALYTICS_RETENTION_DAYS)',
    path: ['ANALYTICS_ROLLUP_RETENTION_DAYS'],
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
    retentionDays: e.ANALYTICS_RETENTION_DAYS,
    rollupRetentionDays: e.ANALYTICS_ROLLUP_RETENTION_DAYS,
    maintenanceIntervalMs: e.ANALYTICS_MAINTENANCE_INTERVAL_SECONDS * 1000,
  };
};
