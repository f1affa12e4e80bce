import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type GatewayRouteDeclaration } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { FeedReader } from './domain/feed-reader.js';
import { BASE, registerFeedRoutes } from './routes/feed-routes.js';

export interface FeedAppDeps extends HttpAppBase {
  reader: FeedReader;
  verifier: TokenVerifier;
}

const registerRoutes = (api: ApiRouter, deps: FeedAppDeps): void => {
  registerFeedRoutes(api, deps);
};

/** The feed HTTP app, built from its dependencies; it does not listen. */
export const createFeedApp = (deps: FeedAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerRoutes(api, deps);
  return createHttpApp(
    {
      service: 'feed',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion feed',
        version: '1.0.0',
        description:
          'Home feeds (the posts of the people one follows, comments on one’s posts) and the global recent-activity feed: a read model kept from the user events.',
      },
    },
    api,
  );
};

/**
 * The routes of the feed as the gateway must know them (public or not, body limits), read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway.s route table is generated from these.
 */
export const feedGatewayRoutes = (): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerRoutes(api, {} as FeedAppDeps)).gatewayRoutes();
