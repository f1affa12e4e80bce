import { deadLetterHeaders, startEventConsumer, type EventBus, type Subscription } from '@galion/events';
import type { Logger } from '@galion/kit';
import type { EventIngestor } from '../domain/ingest.js';
import type { AnalyticsMetrics } from './metrics.js';

export interface AnalyticsConsumerOptions {
  bus: EventBus;
  ingestor: EventIngestor;
  metrics: AnalyticsMetrics;
  logger: Logger;
  groupId: string;
  topic: string;
  dlqTopic: string;
}

/**
 * The analytics consumer: each batch of valid events is stored in one transaction, and only then
 * are the batch's offsets committed. When storing fails (PostgreSQL down) the batch is offered
 * again after a growing delay and no offset moves, so consumption pauses and resumes by itself.
 * Messages that are not valid events go to the dead-letter topic (in startEventConsumer).
 * The `user.deleted` events of a batch erase their users’ events in the batch’s transaction, so
 * before its offsets are committed (docs/analytics.md: Erasure); a failure there retries the batch
 * like any failed store.
 */
export const startAnalyticsConsumer = (options: AnalyticsConsumerOptions): Promise<Subscription> => {
  const { bus, ingestor, metrics, logger } = options;
  return startEventConsumer({
    bus,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    logger,
    handle: async (received, batch) => {
      const endTimer = metrics.batchDuration.startTimer();
      const result = await ingestor.ingest(received.map(({ event }) => event));
      endTimer();
      // Counted as soon as the transaction committed: a retry after a failure below stores nothing new.
      metrics.eventsProcessed.inc(received.length - result.rejected.length);
      if (result.stored > 0) metrics.eventsStored.inc(result.stored);
      for (const latency of result.latenciesSeconds) metrics.eventLatency.observe(latency);
      if (result.rejected.length > 0) {
        await bus.publish(
          options.dlqTopic,
          result.rejected.map(({ index, reason }) => {
            const { message } = received[index]!;
            return { key: message.key ?? 'unknown', value: message.value ?? Buffer.alloc(0), headers: deadLetterHeaders(message, reason) };
          }),
        );
        for (const { index, reason } of result.rejected) {
          const { message } = received[index]!;
          logger.warn(
            { topic: message.topic, partition: message.partition, offset: message.offset, reason },
            'event sent to the dead-letter topic',
          );
        }
        metrics.deadLettered.inc(result.rejected.length);
      }
      const { erasure } = result;
      if (erasure.users.length > 0) {
        metrics.erasures.inc(erasure.users.length);
        logger.info(erasure, 'deleted users’ events were erased');
      }
      metrics.batchSize.observe(batch.messages.length);
      if (result.duplicates > 0) logger.debug({ duplicates: result.duplicates }, 'redelivered events skipped');
    },
    onDeadLetter: () => metrics.deadLettered.inc(),
    onRetry: () => metrics.processingErrors.inc(),
  });
};
