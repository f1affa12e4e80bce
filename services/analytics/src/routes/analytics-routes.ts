import { badRequest, forbidden, type ApiRouter } from '@galion/kit';
import { authenticate, authOf, requireRole, type TokenVerifier } from '@galion/tokens';
import type { Response } from 'express';
import type { AnalyticsQueries, EventPage as Page } from '../domain/queries.js';
import { DAY_MS } from '../domain/time.js';
import type { StoredEvent, TimeRange } from '../repositories/events.js';
import {
  CountsByType,
  DEFAULT_PAGE_SIZE,
  EventPage,
  EventsQuery,
  RangeQuery,
  Summary,
  Timeseries,
  TimeseriesQuery,
  UserEventsQuery,
  UserParams,
} from '../schemas.js';

export const BASE = '/api/v1/analytics';
const tags = ['analytics'];

/** Range of the aggregate queries when the caller gives none: the last 7 days. */
export const DEFAULT_RANGE_MS = 7 * DAY_MS;

const invalidRange = () => badRequest('invalid_range', '`from` must not be after `to`.');

/** from/to of an aggregate query, with the defaults: `to` now, `from` 7 days before `to`. */
export const resolveRange = (query: { from?: Date | undefined; to?: Date | undefined }, now: Date): TimeRange => {
  const to = query.to ?? (query.from && query.from > now ? query.from : now);
  const from = query.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from > to) throw invalidRange();
  return { from, to };
};

const toEvent = (event: StoredEvent) => ({
  id: event.id,
  type: event.type,
  user_id: event.userId,
  source: event.source,
  version: event.version,
  time: event.time.toISOString(),
  received_at: event.receivedAt.toISOString(),
  data: event.data,
});

const toPage = (page: Page) => ({ events: page.events.map(toEvent), next_cursor: page.nextCursor });

/** May the caller read this user's events? Admins read anyone's, users their own. */
const assertMayRead = (res: Response, userId: string | undefined): void => {
  const claims = authOf(res);
  if (claims.role === 'admin') return;
  if (userId !== claims.sub) {
    throw forbidden(
      userId === undefined
        ? 'Listing every user’s events needs the admin role; pass user_id set to your own id.'
        : 'You may read only your own events.',
    );
  }
};

export interface AnalyticsRouteDeps {
  queries: AnalyticsQueries;
  verifier: TokenVerifier;
  now?: () => Date;
}

export const registerAnalyticsRoutes = (api: ApiRouter, { queries, verifier, now = () => new Date() }: AnalyticsRouteDeps): void => {
  const bearer = [authenticate(verifier)];
  const admin = [...bearer, requireRole('admin')];
  const invalid = 'Invalid parameters: validation_failed (a bad date, type, limit or unknown parameter), invalid_range (from after to)';
  const invalidPage = `${invalid}, invalid_cursor`;
  const notAdmin = 'The caller is not an admin (forbidden)';
  const othersEvents = 'Another user’s events, and the caller is not an admin (forbidden)';

  api.route({
    method: 'get',
    path: `${BASE}/summary`,
    summary: 'Totals by type, distinct users and first/last event time over a range (admin)',
    description: 'Answered from the rollups: the cost does not grow with the number of events.',
    tags,
    security: 'bearer',
    before: admin,
    query: RangeQuery,
    responses: { 200: { description: 'The summary', schema: Summary }, 400: invalid, 403: notAdmin },
    handler: async ({ query }) => {
      const summary = await queries.summary(resolveRange(query, now()));
      return {
        body: {
          from: summary.from.toISOString(),
          to: summary.to.toISOString(),
          total: summary.total,
          by_type: summary.byType,
          distinct_users: summary.distinctUsers,
          first_event_at: summary.firstEventAt?.toISOString() ?? null,
          last_event_at: summary.lastEventAt?.toISOString() ?? null,
        },
      };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/events`,
    summary: 'Events, newest first, keyset-paginated (admin, or a user for their own user_id)',
    tags,
    security: 'bearer',
    before: bearer,
    query: EventsQuery,
    responses: { 200: { description: 'A page of events', schema: EventPage }, 400: invalidPage, 403: othersEvents },
    handler: async ({ query, res }) => {
      assertMayRead(res, query.user_id);
      if (query.from && query.to && query.from > query.to) throw invalidRange();
      const filter = { type: query.type, userId: query.user_id, from: query.from, to: query.to };
      return { body: toPage(await queries.listEvents(filter, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor)) };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/events/by-type`,
    summary: 'Event counts per type over a range (admin)',
    tags,
    security: 'bearer',
    before: admin,
    query: RangeQuery,
    responses: { 200: { description: 'Counts per type', schema: CountsByType }, 400: invalid, 403: notAdmin },
    handler: async ({ query }) => {
      const range = resolveRange(query, now());
      const counts = await queries.countByType(range);
      const types = [...counts].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
      return { body: { from: range.from.toISOString(), to: range.to.toISOString(), types } };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/timeseries`,
    summary: 'Event counts per hour or day, empty buckets included (admin)',
    tags,
    security: 'bearer',
    before: admin,
    query: TimeseriesQuery,
    responses: {
      200: { description: 'Counts per bucket', schema: Timeseries },
      400: `${invalid}, too_many_buckets (more buckets than one answer holds)`,
      403: notAdmin,
    },
    handler: async ({ query }) => {
      const series = await queries.timeseries(resolveRange(query, now()), query.interval, query.type);
      return {
        body: {
          interval: query.interval,
          type: query.type ?? null,
          from: series.from.toISOString(),
          to: series.to.toISOString(),
          buckets: series.buckets.map((bucket) => ({ start: bucket.start.toISOString(), count: bucket.count })),
        },
      };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/users/{id}/events`,
    summary: 'One user’s events, newest first, keyset-paginated (the user themself or an admin)',
    tags,
    security: 'bearer',
    before: bearer,
    params: UserParams,
    query: UserEventsQuery,
    responses: { 200: { description: 'A page of events', schema: EventPage }, 400: invalidPage, 403: othersEvents },
    handler: async ({ params, query, res }) => {
      assertMayRead(res, params.id);
      if (query.from && query.to && query.from > query.to) throw invalidRange();
      const filter = { type: query.type, userId: params.id, from: query.from, to: query.to };
      return { body: toPage(await queries.listEvents(filter, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor)) };
    },
  });
};
