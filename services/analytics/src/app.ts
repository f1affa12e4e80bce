import { ApiRouter, createHttpApp, httpAppBase, type HttpAppBase } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { AnalyticsQueries } from './domain/queries.js';
import { BASE, registerAnalyticsRoutes } from './routes/analytics-routes.js';

export interface AnalyticsAppDeps extends HttpAppBase {
  queries: AnalyticsQueries;
  verifier: TokenVerifier;
}

/** The analytics HTTP app, built from its dependencies; it does not listen. */
export const createAnalyticsApp = (deps: AnalyticsAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerAnalyticsRoutes(api, deps);
  return createHttpApp(
    {
      service: 'analytics',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion analytics',
        version: '1.0.0',
        description: 'Queries over the user events: summaries, counts, time series and event lists.',
      },
    },
    api,
  );
};
