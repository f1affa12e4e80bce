import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type GatewayRouteDeclaration } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { AccountRecovery } from './domain/account-recovery.js';
import type { AuthService } from './domain/auth-service.js';
import type { SigningKeyRing } from './domain/signing-keys.js';
import { BASE, registerAuthRoutes, type AuthRouteDeps } from './routes/auth-routes.js';
import type { RefreshCookieSettings } from './routes/refresh-cookie.js';

export interface AuthAppDeps extends HttpAppBase {
  auth: AuthService;
  recovery: AccountRecovery;
  verifier: TokenVerifier;
  keys: SigningKeyRing;
  issuer: string;
  /** The browser's refresh cookie (routes/refresh-cookie.ts). */
  refreshCookie: RefreshCookieSettings;
  /** The password policy's minimum length, which the request schemas state. */
  passwordMinLength: number;
}

/** The auth HTTP app, built from its dependencies; it does not listen. */
export const createAuthApp = (deps: AuthAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerAuthRoutes(api, deps);
  return createHttpApp(
    {
      service: 'auth',
      ...httpAppBase(deps),
      openapi: { path: `${BASE}/openapi.json`, title: 'Galion auth', version: '1.0.0', description: 'Accounts, sessions and tokens.' },
    },
    api,
  );
};

/**
 * The routes of auth as the gateway must know them (public or not, body limits), read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway.s route table is generated from these.
 */
export const authGatewayRoutes = (): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerAuthRoutes(api, { passwordMinLength: 8 } as AuthRouteDeps)).gatewayRoutes();
