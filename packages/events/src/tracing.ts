import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';

/**
 * Trace context across the outbox and the bus. The relay's publish span is a child of the request
 * that wrote the event (its `traceparent` is kept in the envelope), and each consumer's processing
 * span is a child of that publish span (carried in the message's `traceparent` header). Without an
 * OpenTelemetry SDK these calls cost next to nothing.
 */
const tracer = trace.getTracer('galion-events');

export const contextFrom = (traceparent: string | undefined): Context =>
  traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;

export const traceparentOf = (span: Span): string | undefined => {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
};

export const startPublishSpan = (
  topic: string,
  event: { id: string; type: string; subject: string; traceparent?: string | undefined },
): Span =>
  tracer.startSpan(
    `${topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.message.id': event.id,
        'messaging.kafka.message.key': event.subject,
        'galion.event.type': event.type,
      },
    },
    contextFrom(event.traceparent),
  );

export const startProcessSpan = (
  topic: string,
  group: string,
  message: { offset: string; partition: number; traceparent?: string | undefined },
  eventType?: string,
): Span =>
  tracer.startSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': group,
        'messaging.destination.partition.id': String(message.partition),
        'messaging.kafka.offset': Number(message.offset),
        ...(eventType ? { 'galion.event.type': eventType } : {}),
      },
    },
    contextFrom(message.traceparent),
  );

/** Ends spans, marking them failed when `error` is given. */
export const endSpans = (spans: Span[], error?: unknown): void => {
  for (const span of spans) {
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
};

/** Runs `work` with `span` active, so database spans made inside become its children. */
export const withSpan = <T>(span: Span | undefined, work: () => Promise<T>): Promise<T> =>
  span ? context.with(trace.setSpan(context.active(), span), work) : work();
