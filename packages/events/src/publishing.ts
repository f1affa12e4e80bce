import type { Closers, Knex, Logger, Registry } from '@galion/kit';
import type { EventBus } from './bus.js';
import { ensureTopicsInBackground, platformTopics, type KafkaConfig, type OutboxConfig } from './config.js';
import { KafkaEventBus } from './kafka-bus.js';
import { startEventConsumer } from './consumer.js';
import { OutboxRelay } from './relay.js';
import type { EventEnvelope } from './schemas.js';

/**
 * The event bus of a service: the injected one (all-in-one), or Kafka when brokers are
 * configured (topics created in the background, so start-up does not wait for the broker).
 */
export const connectEventBus = (options: {
  injected?: EventBus;
  kafka?: KafkaConfig;
  logger: Logger;
  closers: Closers;
}): EventBus | undefined => {
  if (options.injected) return options.injected;
  if (!options.kafka) return undefined;
  const bus = new KafkaEventBus({ ...options.kafka, logger: options.logger });
  options.closers.push({ name: 'kafka', close: () => bus.close() });
  const topics = ensureTopicsInBackground(bus, platformTopics(options.kafka.partitions), options.logger);
  options.closers.push({ name: 'topic set-up', close: async () => topics.cancel() });
  return bus;
};

/** Starts the outbox relay when there is a bus and it is enabled; otherwise events wait in the outbox. */
export const startOutboxRelay = (options: {
  bus: EventBus | undefined;
  outbox: OutboxConfig;
  knex: Knex;
  logger: Logger;
  registry: Registry;
  closers: Closers;
}): OutboxRelay | undefined => {
  if (!options.bus || !options.outbox.enabled) {
    options.logger.warn('no event bus (KAFKA_BROKERS) or relay disabled: events are kept in the outbox until a relay publishes them');
    return undefined;
  }
  const relay = new OutboxRelay({
    knex: options.knex,
    bus: options.bus,
    logger: options.logger,
    registry: options.registry,
    batchSize: options.outbox.batchSize,
    pollIntervalMs: options.outbox.pollIntervalMs,
    retentionMs: options.outbox.retentionMs,
  });
  relay.start();
  options.closers.push({ name: 'outbox relay', close: () => relay.stop() });
  return relay;
};

/**
 * Applies one event in the batch's transaction; what it returns, if anything, runs once the
 * transaction has committed (such as dropping a cached copy, which a reader could otherwise fill
 * again from the rows not yet committed).
 */
export type ApplyEvent = (event: EventEnvelope, trx: Knex.Transaction) => Promise<void | AfterCommit>;
export type AfterCommit = () => Promise<void>;

/**
 * Subscribes a service to user events and applies each batch in one database transaction, event
 * by event, so a failure retries the whole batch and no offset moves past unapplied events. The
 * batch's after-commit steps run after it; one that fails is logged, not retried (what it
 * tidies, such as a cache, has its own expiry).
 */
export const consumeEventsInTransaction = async (options: {
  bus: EventBus | undefined;
  groupId: string;
  knex: Knex;
  logger: Logger;
  closers: Closers;
  apply: ApplyEvent;
  /** Runs first in each batch's transaction, with all its events (to take its locks in one order, say). */
  beforeBatch?: (events: EventEnvelope[], trx: Knex.Transaction) => Promise<void>;
}): Promise<void> => {
  if (!options.bus) return;
  const subscription = await startEventConsumer({
    bus: options.bus,
    groupId: options.groupId,
    logger: options.logger,
    handle: async (events) => {
      const afterCommit: AfterCommit[] = [];
      await options.knex.transaction(async (trx) => {
        await options.beforeBatch?.(
          events.map(({ event }) => event),
          trx,
        );
        for (const { event } of events) {
          const after = await options.apply(event, trx);
          if (after) afterCommit.push(after);
        }
      });
      for (const after of afterCommit) {
        await after().catch((error: unknown) => options.logger.warn({ err: error }, 'a step after an applied event failed'));
      }
    },
  });
  options.closers.push({ name: 'event consumer', close: () => subscription.stop() });
};

/**
 * The event flow of a service that both publishes (its outbox) and applies others' events in
 * its own transactions, as auth and users do: the bus, the relay, and the consumer.
 */
export const startTwoWayEventFlow = async (options: {
  injected?: EventBus;
  config: { kafka?: KafkaConfig; outbox: OutboxConfig; consumerGroup: string };
  knex: Knex;
  logger: Logger;
  registry: Registry;
  closers: Closers;
  apply: ApplyEvent;
  beforeBatch?: (events: EventEnvelope[], trx: Knex.Transaction) => Promise<void>;
}): Promise<{ bus: EventBus | undefined; relay: OutboxRelay | undefined }> => {
  const { knex, logger, closers } = options;
  const bus = connectEventBus({ injected: options.injected, kafka: options.config.kafka, logger, closers });
  const relay = startOutboxRelay({ bus, outbox: options.config.outbox, knex, logger, registry: options.registry, closers });
  await consumeEventsInTransaction({
    bus,
    groupId: options.config.consumerGroup,
    knex,
    logger,
    closers,
    apply: options.apply,
    beforeBatch: options.beforeBatch,
  });
  return { bus, relay };
};
