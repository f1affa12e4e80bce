import type { Logger } from '@galion/kit';
import {
  USER_EVENTS_DLQ_TOPIC,
  USER_EVENTS_TOPIC,
  type EventBus,
  type IncomingBatch,
  type IncomingMessage,
  type Subscription,
} from './bus.js';
import { parseEvent, type EventEnvelope } from './schemas.js';
import { endSpans, startProcessSpan, withSpan } from './tracing.js';

export interface ReceivedEvent<T = EventEnvelope> {
  event: T;
  message: IncomingMessage;
}

/** What a topic's messages are: a parser that never throws, and the name of an event for its span. */
export interface MessageFormat<T> {
  parse(raw: Buffer | null): { ok: true; event: T } | { ok: false; reason: string };
  eventName(event: T): string;
  /** The trace context an event carries in its body, when its message headers have none. */
  traceparent?(event: T): string | undefined;
}

/** The user events of the platform: the shared envelope and data schemas. */
const userEventFormat: MessageFormat<EventEnvelope> = {
  parse: parseEvent,
  eventName: (event) => event.type,
  traceparent: (event) => event.traceparent,
};

export interface EventConsumerOptions<T = EventEnvelope> {
  /** The topic's message format; the platform's user events by default. */
  format?: MessageFormat<T>;
  bus: EventBus;
  groupId: string;
  topic?: string;
  dlqTopic?: string;
  logger: Logger;
  /**
   * Handles the valid events of one batch, typically in one database transaction. Must be
   * idempotent: after a crash or a retry the same events arrive again.
   */
  handle: (events: ReceivedEvent<T>[], batch: IncomingBatch) => Promise<void>;
  /** Told about every message sent to the dead-letter topic. */
  onDeadLetter?: (message: IncomingMessage, reason: string) => void;
  onRetry?: (error: unknown, attempt: number) => void;
  fromBeginning?: boolean;
}

/** Headers of a dead-lettered message: why, and where it came from. Its value is the original bytes. */
export const deadLetterHeaders = (message: IncomingMessage, reason: string): Record<string, string> => ({
  ...message.headers,
  'dlq-reason': reason,
  'dlq-source-topic': message.topic,
  'dlq-source-partition': String(message.partition),
  'dlq-source-offset': message.offset,
  'dlq-original-value-base64': (message.value ?? Buffer.alloc(0)).toString('base64'),
});

/**
 * Consumes user events: each message is parsed and validated against the shared schemas; valid
 * ones go to `handle`, the rest to the dead-letter topic with the reason, and the consumer goes on.
 * Offsets move only after both succeeded.
 */
export const startEventConsumer = <T = EventEnvelope>(options: EventConsumerOptions<T>): Promise<Subscription> => {
  const format = (options.format ?? userEventFormat) as MessageFormat<T>;
  const topic = options.topic ?? USER_EVENTS_TOPIC;
  const dlqTopic = options.dlqTopic ?? USER_EVENTS_DLQ_TOPIC;
  return options.bus.subscribe({
    groupId: options.groupId,
    topic,
    fromBeginning: options.fromBeginning ?? true,
    onRetry: (error, attempt) => {
      options.logger.warn({ err: error, attempt, group: options.groupId }, 'handling a batch of events failed; retrying');
      options.onRetry?.(error, attempt);
    },
    handleBatch: async (batch) => {
      const valid: ReceivedEvent<T>[] = [];
      const invalid: { message: IncomingMessage; reason: string }[] = [];
      for (const message of batch.messages) {
        const result = format.parse(message.value);
        if (result.ok) valid.push({ event: result.event, message });
        else invalid.push({ message, reason: result.reason });
      }
      if (valid.length > 0) {
        // One processing span per event, child of its publish span; the batch's database work runs
        // under the first one (a batch is one transaction, so its spans can have only one parent).
        const spans = valid.map(({ event, message }) =>
          startProcessSpan(
            topic,
            options.groupId,
            { ...message, traceparent: message.headers.traceparent ?? format.traceparent?.(event) },
            format.eventName(event),
          ),
        );
        try {
          await withSpan(spans[0], () => options.handle(valid, batch));
          endSpans(spans);
        } catch (error) {
          endSpans(spans, error);
          throw error;
        }
      }
      if (invalid.length > 0) {
        await options.bus.publish(
          dlqTopic,
          invalid.map(({ message, reason }) => ({
            key: message.key ?? 'unknown',
            value: message.value ?? Buffer.alloc(0),
            headers: deadLetterHeaders(message, reason),
          })),
        );
        for (const { message, reason } of invalid) {
          options.logger.warn(
            { topic, partition: message.partition, offset: message.offset, reason },
            'event sent to the dead-letter topic',
          );
          options.onDeadLetter?.(message, reason);
        }
      }
    },
  });
};
