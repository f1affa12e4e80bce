import { EVENT_TYPES, type EventType } from '@galion/events';
import { queryInteger, text, z } from '@galion/kit';
import { DEFAULT_PAGE_SIZE } from './domain/queries.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(:([0-5]\d)(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;

/** A calendar-valid ISO-8601 date or date-time with offset (Date.parse alone accepts 2025-02-30). */
export const parseInstant = (value: string): Date | undefined => {
  const match = DATE.exec(value) ?? DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  const time = Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(time) ? undefined : new Date(time);
};

const instant = (description: string) =>
  z
    .string()
    .refine((value) => parseInstant(value) !== undefined, {
      message: 'must be an ISO-8601 date-time with offset (2025-01-31T12:00:00Z) or a date (2025-01-31, midnight UTC)',
    })
    .transform((value) => parseInstant(value) as Date)
    // A date-time with offset or a date: both formats, so what the document allows is what parses.
    .openapi({ description, example: '2025-01-31T00:00:00Z', anyOf: [{ format: 'date-time' }, { format: 'date' }] });

const eventType = z
  .enum(EVENT_TYPES as [EventType, ...EventType[]], { message: `must be one of ${EVENT_TYPES.join(', ')}` })
  .openapi({ description: 'Only events of this type.' });

export const MAX_PAGE_SIZE = 1_000;

export const limit = queryInteger({ min: 1, max: MAX_PAGE_SIZE }).openapi({
  description: `Page size, 1 to ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} by default.`,
  example: DEFAULT_PAGE_SIZE,
});

export const cursor = text({ min: 1, max: 200 }).optional().openapi({ description: 'The next_cursor of the previous page, unchanged.' });

const userId = text({ min: 1, max: 64 });

export const from = instant('Start of the range, included. Default: 7 days before `to`.').optional();
export const to = instant('End of the range, excluded. Default: now.').optional();

export const interval = z
  .enum(['hour', 'day'], { message: 'must be hour or day' })
  .default('hour')
  .openapi({ description: 'Bucket size; buckets are aligned to UTC hours or midnights.' });

export const RangeQuery = z.strictObject({ from, to }).openapi('RangeQuery');

export const TimeseriesQuery = z
  .strictObject({
    interval,
    type: eventType.optional(),
    from,
    to,
  })
  .openapi('TimeseriesQuery');

const listFields = {
  type: eventType.optional(),
  from: instant('Only events at or after this time.').optional(),
  to: instant('Only events before this time.').optional(),
  limit,
  cursor,
};

export const EventsQuery = z
  .strictObject({ ...listFields, user_id: userId.optional().openapi({ description: 'Only events of this user (subject).' }) })
  .openapi('EventsQuery');

export const UserEventsQuery = z.strictObject(listFields).openapi('UserEventsQuery');

export const UserParams = z.strictObject({ id: userId.openapi({ description: 'The user id (the events’ subject).' }) });

const timestamp = z.iso.datetime();

export const Event = z
  .object({
    id: z.uuid(),
    type: z.string().openapi({ example: 'user.logged_in' }),
    user_id: z.string(),
    source: z.string().openapi({ example: 'auth' }),
    version: z.number().int(),
    time: timestamp.openapi({ description: 'When the event happened (its producer’s clock).' }),
    received_at: timestamp.openapi({ description: 'When analytics stored it.' }),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('AnalyticsEvent');

export const EventPage = z
  .object({
    events: z.array(Event),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('AnalyticsEventPage');

export const Summary = z
  .object({
    from: timestamp,
    to: timestamp,
    total: z.number().int(),
    by_type: z.record(z.string(), z.number().int()).openapi({ description: 'Events per type; every known type is listed.' }),
    distinct_users: z.number().int(),
    first_event_at: timestamp.nullable(),
    last_event_at: timestamp.nullable(),
  })
  .openapi('AnalyticsSummary');

export const CountsByType = z
  .object({
    from: timestamp,
    to: timestamp,
    types: z.array(z.object({ type: z.string(), count: z.number().int() })).openapi({ description: 'Most frequent first.' }),
  })
  .openapi('AnalyticsCountsByType');

export const Timeseries = z
  .object({
    interval: z.enum(['hour', 'day']),
    type: z.string().nullable(),
    from: timestamp.openapi({ description: 'Start of the first bucket.' }),
    to: timestamp.openapi({ description: 'End of the last bucket.' }),
    buckets: z.array(z.object({ start: timestamp, count: z.number().int() })),
  })
  .openapi('AnalyticsTimeseries');
