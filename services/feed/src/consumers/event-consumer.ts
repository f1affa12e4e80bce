import { startEventConsumer, type EventBus, type Subscription } from '@galion/events';
import type { Logger } from '@galion/kit';
import type { FeedUpdater } from '../domain/feed-updater.js';
import type { FeedMetrics } from './metrics.js';

export interface FeedConsumerOptions {
  bus: EventBus;
  updater: FeedUpdater;
  metrics: FeedMetrics;
  logger: Logger;
  groupId: string;
  topic: string;
  dlqTopic: string;
  /** Told after each batch is applied (the rebuild counts them). */
  onApplied?: (events: number) => void;
}

/**
 * The feed's consumer: each batch of valid events is applied to Redis in one pipeline, and only
 * then are the batch's offsets committed. When Redis is down the batch is offered again after a
 * growing delay and no offset moves; applying it again is harmless (every write is idempotent).
 * Messages that are not valid events go to the dead-letter topic (in startEventConsumer).
 */
export const startFeedConsumer = (options: FeedConsumerOptions): Promise<Subscription> => {
  const { metrics } = options;
  return startEventConsumer({
    bus: options.bus,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    logger: options.logger,
    handle: async (received) => {
      const endTimer = metrics.batchDuration.startTimer();
      const summary = await options.updater.apply(received.map(({ event }) => event));
      endTimer();
      for (const { type, outcome } of summary.outcomes) metrics.events.inc({ type, outcome });
      if (summary.fannedOut > 0) metrics.fannedOut.inc(summary.fannedOut);
      if (summary.timelineOnly > 0) metrics.fanoutSkipped.inc(summary.timelineOnly);
      if (summary.backfilled > 0) metrics.backfilled.inc(summary.backfilled);
      if (summary.removed > 0) metrics.removed.inc(summary.removed);
      options.onApplied?.(received.length);
    },
    onDeadLetter: () => metrics.deadLettered.inc(),
    onRetry: () => metrics.processingErrors.inc(),
  });
};
