import type { Closers, Logger } from '@galion/kit';
import type { Subscription } from './bus.js';

/** A consumer that subscribes in the background. */
export interface ConsumerHandle {
  /** The subscription once the consumer has started; undefined before. */
  readonly subscription: Subscription | undefined;
  /** Resolves once the consumer has subscribed (or given up because the service is stopping). */
  readonly started: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Subscribes in the background, retrying while the broker or the topic is not there yet, so a
 * service starts (and answers reads) while Kafka is still coming up; its readiness waits for the
 * group. Closing does not wait for a start still under way (it may be waiting for the broker): that
 * start sees the service stopping and stops what it started.
 */
export const startConsumerInBackground = (
  start: () => Promise<Subscription>,
  context: { topic: string; logger: Logger },
  closers: Closers,
): ConsumerHandle => {
  const { topic, logger } = context;
  let subscription: Subscription | undefined;
  let stopping = false;
  const started = (async () => {
    for (let attempt = 1; !stopping; attempt += 1) {
      try {
        const subscribed = await start();
        if (stopping) await subscribed.stop();
        else subscription = subscribed;
        return;
      } catch (error) {
        logger.warn({ err: error, attempt, topic }, 'starting the event consumer failed; retrying');
        await sleep(Math.min(5_000, 250 * attempt));
      }
    }
  })();
  closers.push({
    name: `${topic} consumer`,
    close: async () => {
      stopping = true;
      await subscription?.stop();
    },
  });
  return {
    get subscription() {
      return subscription;
    },
    started,
  };
};
