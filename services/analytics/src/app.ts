import { ApiRouter, createHttpApp, type Health, type Logger, type ServiceMetrics } from '@galion/kit';
import type { TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { AnalyticsQueries } from './domain/queries.js';
import { BASE, registerAnalyticsRoutes } from './routes/analytics-routes.js';

export interface AnalyticsAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  health: Health;
  queries: AnalyticsQueries;
  verifier: TokenVerifier;
  corsOrigins?: string[];
  bodyLimit?: string;
  trustProxy?: number;
  serveMetrics?: boolean;
  now?: () => Date;
}

/** The analytics HTTP app, built from its dependencies; it does not listen. */
export const createAnalyticsApp = (deps: AnalyticsAppDeps): Express => {
  const api = new ApiRouter();
  registerAnalyticsRoutes(api, deps);
  return createHttpApp(
    {
      service: 'analytics',
      logger: deps.logger,
      metrics: deps.metrics,
      health: deps.health,
      corsOrigins: deps.corsOrigins,
      bodyLimit: deps.bodyLimit,
      trustProxy: deps.trustProxy,
      serveMetrics: deps.serveMetrics,
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
