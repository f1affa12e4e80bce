import { ApiRouter, createHttpApp, type Health, type Logger, type ServiceMetrics } from '@galion/kit';
import type { TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { AccountRecovery } from './domain/account-recovery.js';
import type { AuthService } from './domain/auth-service.js';
import type { SigningKeyRing } from './domain/signing-keys.js';
import { BASE, registerAuthRoutes } from './routes/auth-routes.js';

export interface AuthAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  health: Health;
  auth: AuthService;
  recovery: AccountRecovery;
  verifier: TokenVerifier;
  keys: SigningKeyRing;
  issuer: string;
  corsOrigins?: string[];
  bodyLimit?: string;
  trustProxy?: number;
  serveMetrics?: boolean;
}

/** The auth HTTP app, built from its dependencies; it does not listen. */
export const createAuthApp = (deps: AuthAppDeps): Express => {
  const api = new ApiRouter();
  registerAuthRoutes(api, deps);
  return createHttpApp(
    {
      service: 'auth',
      logger: deps.logger,
      metrics: deps.metrics,
      health: deps.health,
      corsOrigins: deps.corsOrigins,
      bodyLimit: deps.bodyLimit,
      trustProxy: deps.trustProxy,
      serveMetrics: deps.serveMetrics,
      openapi: { path: `${BASE}/openapi.json`, title: 'Galion auth', version: '1.0.0', description: 'Accounts, sessions and tokens.' },
    },
    api,
  );
};
