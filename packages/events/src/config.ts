import { env, z, type Logger } from '@galion/kit';
import { APP_EVENTS_DLQ_TOPIC, APP_EVENTS_TOPIC, USER_EVENTS_DLQ_TOPIC, USER_EVENTS_TOPIC, type EventBus, type TopicSpec } from './bus.js';
import type { KafkaSettings } from './kafka-bus.js';

/** Environment of every service that talks to Kafka (README: Configuration). */
export const kafkaEnv = {
  KAFKA_BROKERS: env.list().optional().describe('comma-separated bootstrap brokers; without them events wait in the outbox'),
  KAFKA_CLIENT_ID: env.string().optional().meta({ description: 'client id', unset: '`galion-<service>`' }),
  KAFKA_SSL: env.bool().default(false).describe('TLS to the brokers'),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
    .optional()
    .describe('SASL: `plain`, `scram-sha-256` or `scram-sha-512`, with `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD`'),
  KAFKA_SASL_USERNAME: env.string().optional().describe('SASL user name'),
  KAFKA_SASL_PASSWORD: env.string().optional().describe('SASL password'),
  KAFKA_TOPIC_PARTITIONS: env.int(1, 1_000).default(3).describe('partitions of `user-events` and `app-events` when a service creates them'),
};

/** Environment of services that publish through the outbox. */
export const outboxEnv = {
  OUTBOX_RELAY_ENABLED: env.bool().default(true).describe('run the relay (outbox to Kafka) in this process'),
  OUTBOX_POLL_INTERVAL_MS: env.int(10, 60_000).default(100).describe('wait between polls when the outbox is empty'),
  OUTBOX_BATCH_SIZE: env.int(1, 5_000).default(500).describe('events per publish'),
  OUTBOX_RETENTION_HOURS: env
    .int(1, 24 * 365)
    .default(24)
    .describe('published rows are deleted after this'),
};

type KafkaEnv = z.infer<z.ZodObject<typeof kafkaEnv>>;
type OutboxEnv = z.infer<z.ZodObject<typeof outboxEnv>>;

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sasl: KafkaSettings['sasl'];
  partitions: number;
}

export interface OutboxConfig {
  enabled: boolean;
  pollIntervalMs: number;
  batchSize: number;
  retentionMs: number;
}

/** The Kafka settings, or undefined when no brokers are set (an in-process bus is injected instead). */
export const readKafkaConfig = (values: KafkaEnv, defaultClientId: string): KafkaConfig | undefined => {
  if (!values.KAFKA_BROKERS || values.KAFKA_BROKERS.length === 0) return undefined;
  const sasl =
    values.KAFKA_SASL_MECHANISM && values.KAFKA_SASL_USERNAME && values.KAFKA_SASL_PASSWORD
      ? { mechanism: values.KAFKA_SASL_MECHANISM, username: values.KAFKA_SASL_USERNAME, password: values.KAFKA_SASL_PASSWORD }
      : undefined;
  return {
    brokers: values.KAFKA_BROKERS,
    clientId: values.KAFKA_CLIENT_ID ?? defaultClientId,
    ssl: values.KAFKA_SSL,
    sasl,
    partitions: values.KAFKA_TOPIC_PARTITIONS,
  };
};

export const readOutboxConfig = (values: OutboxEnv): OutboxConfig => ({
  enabled: values.OUTBOX_RELAY_ENABLED,
  pollIntervalMs: values.OUTBOX_POLL_INTERVAL_MS,
  batchSize: values.OUTBOX_BATCH_SIZE,
  retentionMs: values.OUTBOX_RETENTION_HOURS * 3_600_000,
});

/** The platform's topics: user events and application events, each with its dead-letter topic. */
export const platformTopics = (partitions: number): TopicSpec[] => [
  { name: USER_EVENTS_TOPIC, partitions },
  { name: USER_EVENTS_DLQ_TOPIC, partitions: 1 },
  { name: APP_EVENTS_TOPIC, partitions },
  { name: APP_EVENTS_DLQ_TOPIC, partitions: 1 },
];

/**
 * Creates the topics in the background, retrying until the broker answers, so a service starts
 * (and serves) while Kafka is still coming up.
 */
export const ensureTopicsInBackground = (bus: EventBus, topics: TopicSpec[], logger: Logger): { ready: Promise<void>; cancel(): void } => {
  let cancelled = false;
  const ready = (async () => {
    for (let attempt = 1; !cancelled; attempt += 1) {
      try {
        await bus.ensureTopics(topics);
        return;
      } catch (error) {
        logger.warn({ err: error, attempt }, 'creating the event topics failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
      }
    }
  })();
  return { ready, cancel: () => (cancelled = true) };
};
