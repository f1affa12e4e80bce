import { Counter, type Logger, type Registry } from '@galion/kit';
import type { EventBus, Subscription } from './bus.js';
import { startEventConsumer } from './consumer.js';
import type { EventEnvelope } from './schemas.js';

/** What a service removes of deleted users: it applies a batch's `user.deleted` events, idempotently. */
export interface UserErasure {
  /** One entry per user erased; `first` is false when the event came again and nothing was left. */
  apply(events: readonly EventEnvelope[]): Promise<readonly { first: boolean }[]>;
}

export interface ErasureConsumerOptions {
  bus: EventBus;
  erasure: UserErasure;
  groupId: string;
  logger: Logger;
  registry: Registry;
  /** The service, the prefix of its metrics: `<service>_user_erasures_total`, `<service>_event_retries_total`. */
  service: string;
  /** What an erasure removes, for the metric's help ("images", "posts and comments"). */
  removes: string;
}

/**
 * Reads the platform's user events as the service's group: each batch's `user.deleted` events erase
 * those users' data, and only then do the batch's offsets move (a failure retries the batch).
 * Messages that are not valid events are dead-lettered by startEventConsumer.
 */
export const startErasureConsumer = (options: ErasureConsumerOptions): Promise<Subscription> => {
  const erased = new Counter({
    name: `${options.service}_user_erasures_total`,
    help: `Deleted users whose ${options.removes} were removed (user.deleted events applied for the first time).`,
    registers: [options.registry],
  });
  const retries = new Counter({
    name: `${options.service}_event_retries_total`,
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
