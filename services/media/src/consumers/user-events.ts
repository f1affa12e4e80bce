import { startEventConsumer, type EventBus, type Subscription } from '@galion/events';
import { Counter, type Logger, type Registry } from '@galion/kit';
import type { OwnerErasure } from '../domain/erasure.js';

export interface UserEventConsumerOptions {
  bus: EventBus;
  erasure: OwnerErasure;
  groupId: string;
  logger: Logger;
  registry: Registry;
}

/**
 * Reads the platform's user events (the user-events topic) as the group `MEDIA_CONSUMER_GROUP`:
 * each batch's `user.deleted` events erase those users' images, and only then do the batch's
 * offsets move (a failure, the store's included, retries the batch). Messages that are not valid
 * events are dead-lettered by startEventConsumer.
 */
export const startUserEventConsumer = (options: UserEventConsumerOptions): Promise<Subscription> => {
  const erased = new Counter({
    name: 'media_user_erasures_total',
    help: 'Deleted users whose images were removed (user.deleted events applied for the first time).',
    registers: [options.registry],
  });
  const retries = new Counter({
    name: 'media_event_retries_total',
    help: 'Batches of user events whose handling failed and was retried.',
    registers: [options.registry],
  });
  return startEventConsumer({
    bus: options.bus,
    groupId: options.groupId,
    logger: options.logger,
    handle: async (received) => {
      const erasures = await options.erasure.apply(received.map(({ event }) => event));
      erased.inc(erasures.filter((erasure) => erasure.first).length);
    },
    onRetry: () => retries.inc(),
  });
};
