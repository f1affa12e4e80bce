import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type PublicRouteDeclaration } from '@galion/kit';
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

/**
 * The routes of analytics anyone may call, read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway's table of public routes is generated from these.
 */
export const analyticsPublicRoutes = (): PublicRouteDeclaration[] =>
  declarationsOf((api) => registerAnalyticsRoutes(api, {} as Parameters<typeof registerAnalyticsRoutes>[1])).publicRoutes();
