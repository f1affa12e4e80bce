import express, { type Express, type RequestHandler } from 'express';
import type { ServiceMetrics } from './metrics.js';

export const metricsHandler =
  (metrics: ServiceMetrics): RequestHandler =>
  async (_req, res) => {
    res.locals.routeTemplate = '/metrics';
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  };

/** A bare app serving only `/metrics`, for a separate metrics port that NetworkPolicies can open to Prometheus alone. */
export const createMetricsApp = (metrics: ServiceMetrics): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(metrics));
  return app;
};
