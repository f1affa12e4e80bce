import { context, propagation } from '@opentelemetry/api';
import { EVENT_VERSION, type EventData, type EventEnvelope, type EventType } from './schemas.js';
import { uuidv7 } from './uuid.js';

/** The W3C traceparent of the active span, if tracing is on, so the event continues the trace. */
export const currentTraceparent = (): string | undefined => {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
};

export const createEvent = <T extends EventType>(
  type: T,
  fields: { source: string; subject: string; data: EventData<T>; time?: Date },
): EventEnvelope<T> => {
  const traceparent = currentTraceparent();
  return {
    id: uuidv7(fields.time?.getTime()),
    type,
    version: EVENT_VERSION,
    source: fields.source,
    subject: fields.subject,
    time: (fields.time ?? new Date()).toISOString(),
    data: fields.data,
    ...(traceparent ? { traceparent } : {}),
  };
};
