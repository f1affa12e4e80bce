import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type HttpAppBase, type GatewayRouteDeclaration } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { CommentService } from './domain/comment-service.js';
import type { PostService } from './domain/post-service.js';
import { registerCommentsRoutes } from './routes/comments-routes.js';
import { BASE, registerPostsRoutes } from './routes/posts-routes.js';

export interface PostsAppDeps extends HttpAppBase {
  posts: PostService;
  comments: CommentService;
  verifier: TokenVerifier;
  /** max-age of the public reads' Cache-Control. */
  publicMaxAgeSeconds: number;
}

const registerRoutes = (api: ApiRouter, deps: PostsAppDeps): void => {
  registerPostsRoutes(api, deps);
  registerCommentsRoutes(api, deps);
};

/** The posts HTTP app, built from its dependencies; it does not listen. */
export const createPostsApp = (deps: PostsAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
  registerRoutes(api, deps);
  return createHttpApp(
    {
      service: 'posts',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion posts',
        version: '1.0.0',
        description: 'Posts (drafts and published), comments, and full-text search over published posts.',
      },
    },
    api,
  );
};

/**
 * The routes of posts as the gateway must know them (public or not, body limits), read from their declarations (handlers never run, so the
 * dependencies are placeholders): the gateway.s route table is generated from these.
 */
export const postsGatewayRoutes = (): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerRoutes(api, { publicMaxAgeSeconds: 0 } as PostsAppDeps)).gatewayRoutes();
