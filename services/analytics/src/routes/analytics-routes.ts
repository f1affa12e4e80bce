import type { ApiRouter } from '@galion/kit';
import { authOf } from '@galion/tokens';
import type { AnalyticsQueries, EventPage as Page, StoredEvent } from '../domain/queries.js';
import {
  CountsByType,
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

export interface AnalyticsRouteDeps {
  queries: AnalyticsQueries;
}

export const registerAnalyticsRoutes = (api: ApiRouter, { queries }: AnalyticsRouteDeps): void => {
  const invalid = 'Invalid parameters: validation_failed (a bad date, type, limit or unknown parameter), invalid_range (from after to)';
  const invalidPage = `${invalid}, invalid_cursor`;
  const othersEvents = 'Another user’s events, and the caller is not an admin (forbidden)';

  api.route({
    method: 'get',
    path: `${BASE}/summary`,
    summary: 'Totals by type, distinct users and first/last event time over a range (admin)',
    description: 'Answered from the rollups: the cost does not grow with the number of events.',
    tags,
    access: { role: 'admin' },
    query: RangeQuery,
    responses: { 200: { description: 'The summary', schema: Summary }, 400: invalid },
    handler: async ({ query }) => {
      const summary = await queries.summary(query);
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
    access: 'bearer',
    query: EventsQuery,
    responses: { 200: { description: 'A page of events', schema: EventPage }, 400: invalidPage, 403: othersEvents },
    handler: async ({ query, res }) => {
      const filter = { type: query.type, userId: query.user_id, from: query.from, to: query.to };
      return { body: toPage(await queries.listEvents(authOf(res), { filter, limit: query.limit, cursor: query.cursor })) };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/events/by-type`,
    summary: 'Event counts per type over a range (admin)',
    tags,
    access: { role: 'admin' },
    query: RangeQuery,
    responses: { 200: { description: 'Counts per type', schema: CountsByType }, 400: invalid },
    handler: async ({ query }) => {
      const counts = await queries.countsByType(query);
      return { body: { from: counts.from.toISOString(), to: counts.to.toISOString(), types: counts.types } };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/timeseries`,
    summary: 'Event counts per hour or day, empty buckets included (admin)',
    tags,
    access: { role: 'admin' },
    query: TimeseriesQuery,
    responses: {
      200: { description: 'Counts per bucket', schema: Timeseries },
      400: `${invalid}, too_many_buckets (more buckets than one answer holds)`,
    },
    handler: async ({ query }) => {
      const series = await queries.timeseries(query, query.interval, query.type);
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
    access: 'bearer',
    params: UserParams,
    query: UserEventsQuery,
    responses: { 200: { description: 'A page of events', schema: EventPage }, 400: invalidPage, 403: othersEvents },
    handler: async ({ params, query, res }) => {
      const filter = { type: query.type, userId: params.id, from: query.from, to: query.to };
      return { body: toPage(await queries.listEvents(authOf(res), { filter, limit: query.limit, cursor: query.cursor })) };
    },
  });
};
