import { ApiRouter, createHttpApp, type Health, type Logger, type ServiceMetrics } from '@galion/kit';
import type { TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { ProfileService } from './domain/profile-service.js';
import { BASE, registerUsersRoutes } from './routes/users-routes.js';

export interface UsersAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  health: Health;
  profiles: ProfileService;
  verifier: TokenVerifier;
  corsOrigins?: string[];
  bodyLimit?: string;
  trustProxy?: number;
  serveMetrics?: boolean;
}

/** The users HTTP app, built from its dependencies; it does not listen. */
export const createUsersApp = (deps: UsersAppDeps): Express => {
  const api = new ApiRouter();
  registerUsersRoutes(api, deps);
  return createHttpApp(
    {
      service: 'users',
      logger: deps.logger,
      metrics: deps.metrics,
      health: deps.health,
      corsOrigins: deps.corsOrigins,
      bodyLimit: deps.bodyLimit,
      trustProxy: deps.trustProxy,
      serveMetrics: deps.serveMetrics,
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion users',
        version: '1.0.0',
        description: 'Profiles, roles and admin operations.',
      },
    },
    api,
  );
};
