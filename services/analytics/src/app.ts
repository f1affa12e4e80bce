import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type GatewayRouteDeclaration } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { AppEventQueries } from './domain/app-queries.js';
import type { EventCollector } from './domain/collector.js';
import type { AnalyticsQueries } from './domain/queries.js';
import type { SiteRegistry } from './domain/sites.js';
import { BASE, registerAnalyticsRoutes } from './routes/analytics-routes.js';
import { registerAppQueryRoutes } from './routes/app-query-routes.js';
import { registerSiteRoutes } from './routes/site-routes.js';
import { registerTrackingRoutes } from './routes/tracking-routes.js';

export interface AnalyticsAppDeps extends HttpAppBase {
  queries: AnalyticsQueries;
  appQueries: AppEventQueries;
  collector: EventCollector;
  sites: SiteRegistry;
  verifier: TokenVerifier;
}

const registerRoutes = (api: ApiRouter, deps: AnalyticsAppDeps): void => {
  registerAnalyticsRoutes(api, deps);
  registerTrackingRoutes(api, deps);
  registerAppQueryRoutes(api, deps);
  registerSiteRoutes(api, deps);
};

/** The analytics HTTP app, built from its dependencies; it does not listen. */
export const createAnalyticsApp = (deps: AnalyticsAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerRoutes(api, deps);
  return createHttpApp(
    {
      service: 'analytics',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion analytics',
        version: '1.0.0',
        description:
          'The tracking API for application events, queries over platform and application events (summaries, counts, time series, pages, referrers, funnels), and the sites with publishable keys.',
      },
    },
    api,
  );
};

/**
 * The routes of analytics as the gateway must know them (public or not, body limits), read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway.s route table is generated from these.
 */
export const analyticsGatewayRoutes = (): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerRoutes(api, {} as AnalyticsAppDeps)).gatewayRoutes();
