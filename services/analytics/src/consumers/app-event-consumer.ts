import { startEventConsumer, type EventBus, type MessageFormat, type Subscription } from '@galion/events';
import { z, type Logger } from '@galion/kit';
import type { AppEventIngestor } from '../domain/app-ingest.js';
import type { AppEventRecord } from '../domain/tracking.js';
import type { AnalyticsMetrics } from './metrics.js';

const nullableText = z.string().nullable();

/**
 * The app-events topic's messages as the tracking API writes them. Checked again here: a message
 * written by something else must go to the dead-letter topic, not stop the partition.
 */
const appEventRecord = z.object({
  id: z.uuid(),
  time: z.iso.datetime({ offset: true }),
  name: z.string().min(1).max(64),
  site: z.string().max(64),
  user_id: nullableText,
  visitor: z.string().min(1).max(128),
  session_id: nullableText,
  host: nullableText,
  path: nullableText,
  referrer_host: nullableText,
  browser: nullableText,
  os: nullableText,
  device: nullableText,
  properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  received_at: z.iso.datetime({ offset: true }),
});

const storable = (value: unknown): boolean => {
  if (typeof value === 'string') return value.isWellFormed() && !value.includes('\0');
  if (value && typeof value === 'object') return Object.entries(value).every(([key, item]) => storable(key) && storable(item));
  return true;
};

export const appEventFormat: MessageFormat<AppEventRecord> = {
  parse(raw) {
    if (!raw || raw.length === 0) return { ok: false, reason: 'empty message' };
    let value: unknown;
    try {
      value = JSON.parse(raw.toString());
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    const result = appEventRecord.safeParse(value);
    if (!result.success) return { ok: false, reason: `invalid app event: ${result.error.issues[0]?.message ?? 'unknown'}` };
    // jsonb holds neither NUL nor lone surrogates: such a message would fail its whole batch forever.
    if (!storable(result.data)) {
      return { ok: false, reason: 'invalid app event: text PostgreSQL cannot store' };
    }
    return { ok: true, event: result.data as AppEventRecord };
  },
  eventName: (record) => `app ${record.name}`,
};

/** Stores the app-events topic: each batch in one statement, offsets committed after it. */
export const startAppEventConsumer = (options: {
  bus: EventBus;
  ingestor: AppEventIngestor;
  metrics: AnalyticsMetrics;
  logger: Logger;
  groupId: string;
  topic: string;
  dlqTopic: string;
}): Promise<Subscription> => {
  const { metrics } = options;
  return startEventConsumer<AppEventRecord>({
    bus: options.bus,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    logger: options.logger,
    format: appEventFormat,
    handle: async (received) => {
      const result = await options.ingestor.ingest(received.map(({ event }) => event));
      if (result.stored > 0) metrics.appEventsStored.inc(result.stored);
      for (const latency of result.latenciesSeconds) metrics.appEventLatency.observe(latency);
    },
    onDeadLetter: () => metrics.deadLettered.inc(),
    onRetry: () => metrics.processingErrors.inc(),
  });
};
