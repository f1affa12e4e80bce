import type { EventBus, OutgoingMessage } from './bus.js';

/** The bus did not take the messages in time, or failed: none of the caller's messages is known to be written. */
export class PublishUnavailable extends Error {
  override readonly name = 'PublishUnavailable';
}

export interface CoalescingPublisherOptions {
  /** Most messages in one send. */
  maxMessages?: number;
  /** How long a caller waits for its messages to be acknowledged before it is told the bus is unavailable. */
  timeoutMs?: number;
  /** After a failure or a timeout, callers are refused at once for this long (then one send tries again). */
  failFastMs?: number;
  now?: () => number;
}

interface Waiter {
  messages: OutgoingMessage[];
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  settled: boolean;
}

/**
 * Publishes for many concurrent callers with few sends: while one send is in flight, the
 * messages of every caller that arrives queue up, and the next send carries all of them (group
 * commit; Kafka's acks=all round trip is paid once per send, not once per request). Each caller
 * learns when its own messages are acknowledged. A caller whose messages are still queued when
 * its time runs out is withdrawn, so what it was told failed is never written later.
 */
export class CoalescingPublisher {
  private readonly queue: Waiter[] = [];
  private sending = false;
  private unavailableUntil = 0;
  private readonly maxMessages: number;
  private readonly timeoutMs: number;
  private readonly failFastMs: number;
  private readonly now: () => number;

  constructor(
    private readonly bus: EventBus,
    private readonly topic: string,
    options: CoalescingPublisherOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.failFastMs = options.failFastMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** Resolves once every message is acknowledged; rejects with PublishUnavailable otherwise. */
  publish(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (this.now() < this.unavailableUntil) {
      return Promise.reject(new PublishUnavailable(`the event bus failed moments ago; ${this.topic} not written`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        messages,
        settled: false,
        resolve: () => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(waiter.timer);
          resolve();
        },
        reject: (error) => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(waiter.timer);
          reject(error);
        },
        timer: setTimeout(() => {
          const queued = this.queue.indexOf(waiter);
          if (queued >= 0) this.queue.splice(queued, 1);
          this.markUnavailable();
          waiter.reject(new PublishUnavailable(`the event bus did not acknowledge within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.queue.push(waiter);
      this.sendNext();
    });
  }

  private markUnavailable(): void {
    this.unavailableUntil = this.now() + this.failFastMs;
  }

  private sendNext(): void {
    if (this.sending || this.queue.length === 0) return;
    const batch: Waiter[] = [];
    let count = 0;
    while (this.queue.length > 0 && (batch.length === 0 || count + this.queue[0]!.messages.length <= this.maxMessages)) {
      const waiter = this.queue.shift()!;
      batch.push(waiter);
      count += waiter.messages.length;
    }
    this.sending = true;
    this.bus
      .publish(
        this.topic,
        batch.flatMap((waiter) => waiter.messages),
      )
      .then(
        () => {
          for (const waiter of batch) waiter.resolve();
        },
        (error: unknown) => {
          this.markUnavailable();
          const reason = new PublishUnavailable(`publishing to ${this.topic} failed: ${(error as Error)?.message ?? String(error)}`);
          for (const waiter of batch) waiter.reject(reason);
        },
      )
      .finally(() => {
        this.sending = false;
        this.sendNext();
      });
  }
}
