import type { ApiRouter } from '@galion/kit';
import type { AppEventQueries, RankedPage } from '../domain/app-queries.js';
import {
  AppBreakdown,
  AppBreakdownQuery,
  AppFunnel,
  AppFunnelQuery,
  AppNames,
  AppPageQuery,
  AppPages,
  AppReferrers,
  AppTimeseries,
  AppTimeseriesQuery,
  AppUniques,
  AppUniquesQuery,
} from '../tracking-schemas.js';
import { BASE } from './analytics-routes.js';

const tags = ['analytics'];
const access = { role: 'admin' };
const rawInvalid =
  'Invalid parameters: validation_failed (a bad date, name, limit or unknown parameter), invalid_range (from after to), range_too_large (longer than ANALYTICS_APP_QUERY_MAX_DAYS)';
const pageInvalid = `${rawInvalid}, invalid_cursor`;
const rawNote = 'Counted from the raw events (distinct users and visitors are exact), over at most ANALYTICS_APP_QUERY_MAX_DAYS (31 by default).';

const range = (page: { from: Date; to: Date }) => ({ from: page.from.toISOString(), to: page.to.toISOString() });

export const registerAppQueryRoutes = (api: ApiRouter, { appQueries }: { appQueries: AppEventQueries }): void => {
  const path = (name: string) => `${BASE}/app/${name}`;
  const paged = (page: RankedPage) => ({ ...range(page), next_cursor: page.nextCursor });

  api.route({
    method: 'get',
    path: path('names'),
    summary: 'Application events per name, with distinct users and visitors, most events first (admin)',
    description: rawNote,
    tags,
    access,
    query: AppPageQuery,
    responses: { 200: { description: 'A page of event names', schema: AppNames }, 400: pageInvalid },
    handler: async ({ query }) => {
      const page = await appQueries.names(query, query);
      return { body: { ...paged(page), names: page.rows.map((row) => ({ name: row.key ?? '', events: row.events, users: row.users, visitors: row.visitors })) } };
    },
  });

  api.route({
    method: 'get',
    path: path('uniques'),
    summary: 'Events, distinct users and distinct visitors over a range, of one name or all (admin)',
    description: rawNote,
    tags,
    access,
    query: AppUniquesQuery,
    responses: { 200: { description: 'The totals', schema: AppUniques }, 400: rawInvalid },
    handler: async ({ query }) => {
      const totals = await appQueries.uniques(query);
      return { body: { ...range(totals), name: query.name ?? null, events: totals.events, users: totals.users, visitors: totals.visitors } };
    },
  });

  api.route({
    method: 'get',
    path: path('timeseries'),
    summary: 'Application events per hour or day, empty buckets included (admin)',
    description: 'Answered from the hourly counts: any range up to the rollup retention, at most 2,200 buckets.',
    tags,
    access,
    query: AppTimeseriesQuery,
    responses: {
      200: { description: 'Events per bucket', schema: AppTimeseries },
      400: 'Invalid parameters: validation_failed, invalid_range (from after to), too_many_buckets',
    },
    handler: async ({ query }) => {
      const series = await appQueries.timeseries(query, query.interval);
      return {
        body: {
          interval: query.interval,
          name: query.name ?? null,
          ...range(series),
          buckets: series.buckets.map((bucket) => ({ start: bucket.start.toISOString(), events: bucket.events })),
        },
      };
    },
  });

  api.route({
    method: 'get',
    path: path('pages'),
    summary: 'Top pages: page views and visitors per path, most viewed first (admin)',
    description: rawNote,
    tags,
    access,
    query: AppPageQuery,
    responses: { 200: { description: 'A page of paths', schema: AppPages }, 400: pageInvalid },
    handler: async ({ query }) => {
      const page = await appQueries.pages(query, query);
      return { body: { ...paged(page), pages: page.rows.map((row) => ({ path: row.key ?? '', views: row.events, visitors: row.visitors })) } };
    },
  });

  api.route({
    method: 'get',
    path: path('referrers'),
    summary: 'Top referrers: page views arriving from another host, per host (admin)',
    description: rawNote,
    tags,
    access,
    query: AppPageQuery,
    responses: { 200: { description: 'A page of referring hosts', schema: AppReferrers }, 400: pageInvalid },
    handler: async ({ query }) => {
      const page = await appQueries.referrers(query, query);
      return {
        body: { ...paged(page), referrers: page.rows.map((row) => ({ referrer: row.key ?? '', visits: row.events, visitors: row.visitors })) },
      };
    },
  });

  api.route({
    method: 'get',
    path: path('breakdown'),
    summary: 'One event’s count per value of one property, most events first (admin)',
    description: rawNote,
    tags,
    access,
    query: AppBreakdownQuery,
    responses: { 200: { description: 'A page of values', schema: AppBreakdown }, 400: pageInvalid },
    handler: async ({ query }) => {
      const page = await appQueries.breakdown(query, query.property, query);
      return {
        body: {
          ...paged(page),
          name: query.name,
          property: query.property,
          values: page.rows.map((row) => ({ value: row.key, events: row.events, visitors: row.visitors })),
        },
      };
    },
  });

  api.route({
    method: 'get',
    path: path('funnel'),
    summary: 'An ordered funnel over 2 to 5 event names: visitors reaching each step in order (admin)',
    description: `${rawNote} A visitor reaches a step when they did every earlier step, each after the one before, within the range.`,
    tags,
    access,
    query: AppFunnelQuery,
    responses: { 200: { description: 'The steps', schema: AppFunnel }, 400: rawInvalid },
    handler: async ({ query }) => {
      const funnel = await appQueries.funnel(query, query.steps);
      return { body: { ...range(funnel), steps: funnel.steps } };
    },
  });
};
