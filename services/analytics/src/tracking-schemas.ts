import { text, z } from '@galion/kit';
import { cursor, from, interval, limit, to } from './schemas.js';
import {
  MAX_BATCH_EVENTS,
  MAX_EVENT_FUTURE_MS,
  MAX_EVENT_PAST_MS,
  MAX_PROPERTIES,
  MAX_PROPERTIES_BYTES,
  MAX_PROPERTY_STRING,
  MAX_URL_LENGTH,
} from './domain/tracking.js';

const HOUR_MS = 3_600_000;

/** Event names: a letter or digit, then letters, digits and `_ . : / -` or spaces. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/ -]*$/;
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

export const eventName = z
  .string()
  .min(1)
  .max(64)
  .regex(EVENT_NAME_PATTERN, { message: 'must start with a letter or digit and hold only letters, digits, spaces and _ . : / -' })
  .openapi({ example: 'signup_clicked' });

const httpUrl = (description: string, allowEmpty: boolean) =>
  storableText({ max: MAX_URL_LENGTH })
    .refine((value) => (allowEmpty && value === '') || isHttpUrl(value), { message: 'must be an absolute http(s) URL' })
    .openapi({ description, format: allowEmpty ? undefined : 'uri' });

export const isHttpUrl = (value: string): boolean => {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    return new URL(value).host !== '';
  } catch {
    return false;
  }
};

/**
 * Text that PostgreSQL's jsonb can hold: no NUL and no lone surrogate (either would make the
 * stored batch fail, and with it every event of the batch).
 */
const storableText = (bounds: { min?: number; max: number }) =>
  text(bounds).refine((value) => value.isWellFormed(), { message: 'must be well-formed Unicode (no lone surrogates)' });

const propertyValue = z.union([storableText({ max: MAX_PROPERTY_STRING }), z.number(), z.boolean(), z.null()]);

/** One event as an application sends it. Each event of a batch is checked on its own. */
export const TrackedEvent = z
  .strictObject({
    name: eventName.openapi({ description: 'What happened; `page_view` for page views.' }),
    id: z
      .uuid()
      .optional()
      .openapi({ description: 'A UUID the client makes; with `time`, a retried event is stored once. Made by the server otherwise.' }),
    time: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({
        description: `When it happened, ISO-8601 with offset; at most ${MAX_EVENT_PAST_MS / (24 * HOUR_MS)} days ago and ${MAX_EVENT_FUTURE_MS / HOUR_MS} hour ahead. Default: when received.`,
      }),
    url: httpUrl('The page it happened on; only its host and path are stored.', false).optional(),
    referrer: httpUrl('The referring page (may be empty); only its host is stored.', true).optional(),
    session_id: z.string().min(1).max(64).regex(ID_PATTERN).optional().openapi({ description: 'The client’s session (e.g. per browser tab).' }),
    anonymous_id: z
      .string()
      .min(1)
      .max(64)
      .regex(ID_PATTERN)
      .optional()
      .openapi({ description: 'A stable id the application keeps for an anonymous visitor; stored only as a hash.' }),
    properties: z
      .record(storableText({ min: 1, max: 64 }), propertyValue)
      .optional()
      .refine((value) => value === undefined || Object.keys(value).length <= MAX_PROPERTIES, {
        message: `at most ${MAX_PROPERTIES} properties`,
      })
      .refine((value) => value === undefined || Buffer.byteLength(JSON.stringify(value)) <= MAX_PROPERTIES_BYTES, {
        message: `at most ${MAX_PROPERTIES_BYTES} bytes as JSON`,
      })
      .openapi({
        description: `Flat: strings (≤ ${MAX_PROPERTY_STRING} characters), numbers, booleans or null; at most ${MAX_PROPERTIES} keys and ${MAX_PROPERTIES_BYTES} bytes.`,
      }),
  })
  .openapi('TrackedEvent');

export type TrackedEventInput = z.infer<typeof TrackedEvent>;

export const TrackBatch = z
  .strictObject({
    events: z
      .array(
        z.record(z.string(), z.unknown()).openapi({
          description: 'An event; each is checked against the TrackedEvent schema on its own, and refused alone when it fails.',
        }),
      )
      .min(1)
      .max(MAX_BATCH_EVENTS, { message: `at most ${MAX_BATCH_EVENTS} events in a batch` })
      .openapi({ description: `1 to ${MAX_BATCH_EVENTS} events (TrackedEvent).` }),
  })
  .openapi('TrackBatch');

export const TrackQuery = z.strictObject({
  key: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: 'A site’s publishable key, for traffic without a user token (a browser on the site).' }),
});

export const TrackResult = z
  .object({
    accepted: z.number().int(),
    refused: z.number().int(),
    results: z.array(
      z.union([
        z.object({ index: z.number().int(), status: z.literal('accepted'), id: z.uuid() }),
        z.object({ index: z.number().int(), status: z.literal('refused'), error: z.string(), message: z.string() }),
      ]),
    ),
  })
  .openapi('TrackResult');

// Sites

const origin = z
  .string()
  .max(255)
  .refine((value) => isOrigin(value), { message: 'must be an origin: scheme://host[:port], no path' })
  .openapi({ example: 'https://www.example.com' });

/** `https://host[:port]` exactly as a browser sends it in `Origin`. */
export const isOrigin = (value: string): boolean => {
  if (!isHttpUrl(value)) return false;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
};

export const MAX_SITE_ORIGINS = 50;
const origins = z.array(origin).min(1).max(MAX_SITE_ORIGINS);
const eventsPerMinute = z.number().int().min(1).max(10_000_000);

export const CreateSiteBody = z
  .strictObject({
    name: text({ min: 1, max: 100, trim: true, nonBlank: true }),
    allowed_origins: origins.openapi({ description: 'The origins whose pages may send events with this key.' }),
    events_per_minute: eventsPerMinute.optional().openapi({ description: 'The key’s own limit; 6000 by default.' }),
  })
  .openapi('CreateSite');

export const UpdateSiteBody = z
  .strictObject({
    name: text({ min: 1, max: 100, trim: true, nonBlank: true }).optional(),
    allowed_origins: origins.optional(),
    events_per_minute: eventsPerMinute.optional(),
  })
  .refine((value) => Object.keys(value).length > 0, { message: 'give at least one field' })
  .openapi('UpdateSite', { minProperties: 1 });

export const SiteParams = z.strictObject({ id: z.uuid().openapi({ description: 'The site id.' }) });

export const Site = z
  .object({
    id: z.uuid(),
    name: z.string(),
    key: z.string().openapi({ description: 'The publishable key: public by design (it is in the site’s pages).' }),
    allowed_origins: z.array(z.string()),
    events_per_minute: z.number().int(),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .openapi('TrackingSite');

export const SiteList = z.object({ sites: z.array(Site) }).openapi('TrackingSiteList');


// Queries over application events

const siteFilter = z.uuid().optional().openapi({ description: 'Only events sent with this site’s key (its id).' });
const nameFilter = eventName.optional().openapi({ description: 'Only events of this name.' });
const timestamp = z.iso.datetime();

export const AppRangeQuery = z.strictObject({ from, to, site: siteFilter }).openapi('AppRangeQuery');
export const AppPageQuery = z.strictObject({ from, to, site: siteFilter, limit, cursor }).openapi('AppPageQuery');
export const AppUniquesQuery = z.strictObject({ from, to, site: siteFilter, name: nameFilter }).openapi('AppUniquesQuery');
export const AppTimeseriesQuery = z.strictObject({ interval, from, to, site: siteFilter, name: nameFilter }).openapi('AppTimeseriesQuery');
export const AppBreakdownQuery = z
  .strictObject({
    name: eventName.openapi({ description: 'The event whose property is broken down.' }),
    property: text({ min: 1, max: 64 }).openapi({ description: 'The property key.' }),
    from,
    to,
    site: siteFilter,
    limit,
    cursor,
  })
  .openapi('AppBreakdownQuery');

export const MIN_FUNNEL_STEPS = 2;
export const MAX_FUNNEL_STEPS = 5;

export const AppFunnelQuery = z
  .strictObject({
    steps: z
      .string()
      .max(5 * 65)
      .transform((value) => value.split(','))
      .pipe(
        z
          .array(eventName)
          .min(MIN_FUNNEL_STEPS, { message: `give ${MIN_FUNNEL_STEPS} to ${MAX_FUNNEL_STEPS} event names` })
          .max(MAX_FUNNEL_STEPS, { message: `give ${MIN_FUNNEL_STEPS} to ${MAX_FUNNEL_STEPS} event names` }),
      )
      .openapi({
        description: `${MIN_FUNNEL_STEPS} to ${MAX_FUNNEL_STEPS} event names, comma-separated, in the order a visitor must do them.`,
        example: 'page_view,signup_clicked,signed_up',
        type: 'string',
      }),
    from,
    to,
    site: siteFilter,
  })
  .openapi('AppFunnelQuery');

const counts = {
  events: z.number().int(),
  users: z.number().int().openapi({ description: 'Distinct signed-in users.' }),
  visitors: z.number().int().openapi({ description: 'Distinct visitors (users, or hashed anonymous visitors: see docs/analytics.md).' }),
};
const nextCursor = z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' });

export const AppNames = z
  .object({ from: timestamp, to: timestamp, names: z.array(z.object({ name: z.string(), ...counts })), next_cursor: nextCursor })
  .openapi('AppEventNames');

export const AppUniques = z
  .object({ from: timestamp, to: timestamp, name: z.string().nullable(), ...counts })
  .openapi('AppEventUniques');

export const AppTimeseries = z
  .object({
    interval: z.enum(['hour', 'day']),
    name: z.string().nullable(),
    from: timestamp,
    to: timestamp,
    buckets: z.array(z.object({ start: timestamp, events: z.number().int() })),
  })
  .openapi('AppEventTimeseries');

export const AppPages = z
  .object({
    from: timestamp,
    to: timestamp,
    pages: z.array(z.object({ path: z.string(), views: z.number().int(), visitors: z.number().int() })),
    next_cursor: nextCursor,
  })
  .openapi('AppPages');

export const AppReferrers = z
  .object({
    from: timestamp,
    to: timestamp,
    referrers: z.array(z.object({ referrer: z.string(), visits: z.number().int(), visitors: z.number().int() })),
    next_cursor: nextCursor,
  })
  .openapi('AppReferrers');

export const AppBreakdown = z
  .object({
    from: timestamp,
    to: timestamp,
    name: z.string(),
    property: z.string(),
    values: z.array(
      z.object({
        value: z.string().nullable().openapi({ description: 'The value as text; null for events without the property (or with null).' }),
        events: z.number().int(),
        visitors: z.number().int(),
      }),
    ),
    next_cursor: nextCursor,
  })
  .openapi('AppBreakdown');

export const AppFunnel = z
  .object({
    from: timestamp,
    to: timestamp,
    steps: z.array(
      z.object({
        name: z.string(),
        visitors: z.number().int(),
        conversion: z.number().min(0).max(1).openapi({ description: 'Share of the first step’s visitors who reached this step.' }),
      }),
    ),
  })
  .openapi('AppFunnel');
