import { startEventConsumer, type EventBus, type MessageFormat, type Subscription } from '@galion/events';
import type { Logger } from '@galion/kit';
import type { AppEventIngestor } from '../domain/app-ingest.js';
import type { AppEventRecord } from '../domain/tracking.js';
import type { AnalyticsMetrics } from './metrics.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const NULLABLE_TEXT = ['session_id', 'host', 'path', 'referrer_host', 'browser', 'os', 'device', 'user_id'] as const;

/** Text PostgreSQL's jsonb can hold: no NUL, no lone surrogate (either would fail its whole batch, forever). */
const storable = (value: string): boolean => value.isWellFormed() && !value.includes('\0');
const text = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max && storable(value);
const instant = (value: unknown): boolean => typeof value === 'string' && INSTANT.test(value) && Number.isFinite(Date.parse(value));

/**
 * Why a value is not a record as the tracking API writes it, or undefined. Checked by hand: it
 * runs for every event the consumer reads, and a message written by something else must go to the
 * dead-letter topic rather than stop the partition.
 */
export const recordProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  if (typeof record.id !== 'string' || !UUID.test(record.id)) return 'id: not a UUID';
  if (!instant(record.time)) return 'time: not an ISO-8601 instant';
  if (!instant(record.received_at)) return 'received_at: not an ISO-8601 instant';
  if (!text(record.name, 64) || record.name.length === 0) return 'name: not 1 to 64 characters';
  if (!text(record.site, 64)) return 'site: not text';
  if (!text(record.visitor, 128) || record.visitor.length === 0) return 'visitor: not 1 to 128 characters';
  for (const field of NULLABLE_TEXT) if (record[field] !== null && !text(record[field], 4_096)) return `${field}: not text or null`;
  const properties = record.properties;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return 'properties: not an object';
  for (const [key, item] of Object.entries(properties)) {
    if (!storable(key)) return 'properties: a key PostgreSQL cannot store';
    if (item === null || typeof item === 'number' || typeof item === 'boolean') continue;
    if (!text(item, 4_096)) return `properties.${key}: not a scalar`;
  }
  return undefined;
};

/** The app-events topic: each message is one key's records of one batch (collector.ts, toMessages). */
export const appEventFormat: MessageFormat<AppEventRecord[]> = {
  parse(raw) {
    if (!raw || raw.length === 0) return { ok: false, reason: 'empty message' };
    let value: unknown;
    try {
      value = JSON.parse(raw.toString());
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    if (!Array.isArray(value) || value.length === 0) return { ok: false, reason: 'invalid app events: not a non-empty array of records' };
    for (const [index, record] of value.entries()) {
      const problem = recordProblem(record);
      if (problem) return { ok: false, reason: `invalid app event [${index}]: ${problem}` };
    }
    return { ok: true, event: value as AppEventRecord[] };
  },
  eventName: (records) => `app ${records[0]!.name}${records.length > 1 ? ` +${records.length - 1}` : ''}`,
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
  return startEventConsumer<AppEventRecord[]>({
    bus: options.bus,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    logger: options.logger,
    format: appEventFormat,
    handle: async (received) => {
      const result = await options.ingestor.ingest(received.flatMap(({ event }) => event));
      if (result.stored > 0) metrics.appEventsStored.inc(result.stored);
      for (const latency of result.latenciesSeconds) metrics.appEventLatency.observe(latency);
    },
    onDeadLetter: () => metrics.deadLettered.inc(),
    onRetry: () => metrics.processingErrors.inc(),
  });
};
