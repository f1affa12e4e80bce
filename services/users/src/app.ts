import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type GatewayRouteDeclaration } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { FollowService } from './domain/follow-service.js';
import type { ProfileService } from './domain/profile-service.js';
import { BASE, registerUsersRoutes } from './routes/users-routes.js';

export interface UsersAppDeps extends HttpAppBase {
  profiles: ProfileService;
  follows: FollowService;
  verifier: TokenVerifier;
}

/** The users HTTP app, built from its dependencies; it does not listen. */
export const createUsersApp = (deps: UsersAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerUsersRoutes(api, deps);
  return createHttpApp(
    {
      service: 'users',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion users',
        version: '1.0.0',
        description: 'Profiles, roles, follows and admin operations.',
      },
    },
    api,
  );
};

/**
 * The routes of users as the gateway must know them (public or not, body limits), read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway.s route table is generated from these.
 */
export const usersGatewayRoutes = (): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerUsersRoutes(api, {} as Parameters<typeof registerUsersRoutes>[1])).gatewayRoutes();
