import type { ApiRouter, ResponseLink } from '@galion/kit';
import { authOf, type AccessClaims } from '@galion/tokens';
import type { Response } from 'express';
import type { Actor, Post, PostService, PostSummary, SearchHit } from '../domain/post-service.js';
import {
  CreatePostRequest,
  ListQuery,
  PageQuery,
  POST_BODY_LIMIT,
  PostIdParams,
  PostList,
  PostView,
  SearchQuery,
  SearchResults,
  UpdatePostRequest,
} from '../schemas.js';
import { CACHE_HEADERS, cachedRead, IF_NONE_MATCH, notModified, noStoreUntilAnswered, written } from './caching.js';

export const BASE = '/api/v1/posts';
const tags = ['posts'];

/** The caller of a bearer route. */
export const actorOf = (res: Response): Actor => {
  const claims = authOf(res);
  return { id: claims.sub, role: claims.role };
};

/** The caller of a public route: the token's user when one was sent (and verified), else nobody. */
export const viewerOf = (res: Response): Actor | undefined => {
  const claims = res.locals.auth as AccessClaims | undefined;
  return claims ? { id: claims.sub, role: claims.role } : undefined;
};

const common = (post: PostSummary | Post) => ({
  id: post.id,
  author_id: post.authorId,
  title: post.title,
  tags: post.tags,
  published: post.published,
  published_at: post.publishedAt?.toISOString() ?? null,
  created_at: post.createdAt.toISOString(),
  updated_at: post.updatedAt.toISOString(),
});

export const toPostView = (post: Post) => ({ ...common(post), body: post.body });
const toSummaryView = (post: PostSummary) => ({ ...common(post), excerpt: post.excerpt });
const toSearchHitView = (hit: SearchHit) => ({ ...toSummaryView(hit), rank: hit.rank });

const hidden = 'No such post, or a draft of someone else (post_not_found); a deleted account (account_not_found)';
const badPage = 'Invalid input (validation_failed), or a cursor this list did not give out (invalid_cursor)';

export interface PostsRouteDeps {
  posts: PostService;
  publicMaxAgeSeconds: number;
}

const byPostId = { id: '$response.body#/id' };
/** What a written post's id serves next. */
const postLinks: Record<string, ResponseLink> = {
  ReadPost: { operation: `get ${BASE}/{id}`, parameters: byPostId },
  UpdatePost: { operation: `patch ${BASE}/{id}`, parameters: byPostId },
  DeletePost: { operation: `delete ${BASE}/{id}`, parameters: byPostId },
  CommentOnPost: { operation: `post ${BASE}/{id}/comments`, parameters: byPostId },
  ReadComments: { operation: `get ${BASE}/{id}/comments`, parameters: byPostId },
};

export const registerPostsRoutes = (api: ApiRouter, { posts, publicMaxAgeSeconds: maxAge }: PostsRouteDeps): void => {
  api.route({
    method: 'post',
    path: BASE,
    summary: 'Write a post, as a draft or published; you are its author',
    tags,
    access: 'bearer',
    body: CreatePostRequest,
    bodyOptions: { limit: POST_BODY_LIMIT, types: ['application/json'] },
    responses: {
      201: {
        description: 'The post',
        schema: PostView,
        headers: { ...CACHE_HEADERS, Location: { description: 'The post’s URL.', schema: { type: 'string' } } },
        links: postLinks,
      },
      404: 'Your account was deleted (account_not_found)',
    },
    handler: async ({ body, res }) => {
      const post = await posts.create(actorOf(res), body);
      return written(201, toPostView(post), { Location: `${BASE}/${post.id}` });
    },
  });

  // Concrete paths: the kit serves them before the `{id}` template that also matches them.
  api.route({
    method: 'get',
    path: `${BASE}/mine`,
    summary: 'My posts, drafts included, newest first',
    tags,
    access: 'bearer',
    before: [noStoreUntilAnswered],
    query: PageQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'A page of my posts (`private, no-store`)', schema: PostList, headers: CACHE_HEADERS },
      304: notModified('page'),
      400: badPage,
    },
    handler: async ({ query, req, res }) => {
      const page = await posts.mine(actorOf(res), query);
      return cachedRead(req, { items: page.items.map(toSummaryView), next_cursor: page.nextCursor }, 'private', maxAge);
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/search`,
    summary: 'Search published posts: full text over titles and bodies, best match first',
    description:
      'PostgreSQL text search in the language of POSTS_SEARCH_LANGUAGE (stemming, stop words), parsed as web-search syntax (`websearch_to_tsquery`: words, `"a phrase"`, `or`, `-excluded`), ranked by `ts_rank_cd` with title words weighing more than body words; ties by id. A cursor belongs to its query.',
    tags,
    access: { public: 'ip', token: 'optional' },
    before: [noStoreUntilAnswered],
    query: SearchQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'A page of hits', schema: SearchResults, headers: CACHE_HEADERS },
      304: notModified('page'),
      400: 'Invalid input (validation_failed), or a cursor this search did not give out (invalid_cursor)',
    },
    handler: async ({ query, req }) => {
      const page = await posts.search(query.q, query);
      return cachedRead(req, { items: page.items.map(toSearchHitView), next_cursor: page.nextCursor }, 'public', maxAge);
    },
  });

  api.route({
    method: 'get',
    path: BASE,
    summary: 'Published posts, newest first; of one author or with one tag if asked',
    tags,
    access: { public: 'ip', token: 'optional' },
    before: [noStoreUntilAnswered],
    query: ListQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'A page of posts', schema: PostList, headers: CACHE_HEADERS },
      304: notModified('page'),
      400: badPage,
    },
    handler: async ({ query, req }) => {
      const page = await posts.listPublished({ authorId: query.author, tag: query.tag }, query);
      return cachedRead(req, { items: page.items.map(toSummaryView), next_cursor: page.nextCursor }, 'public', maxAge);
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}`,
    summary: 'A post: published ones to anyone, a draft to its author and admins (404 to anyone else)',
    tags,
    access: { public: 'ip', token: 'optional' },
    before: [noStoreUntilAnswered],
    params: PostIdParams,
    headers: IF_NONE_MATCH,
    responses: {
      200: {
        description: 'The post (`public` when published, `private, no-store` when a draft)',
        schema: PostView,
        headers: CACHE_HEADERS,
      },
      304: notModified('post'),
      404: 'No such post, or a draft of someone else (post_not_found)',
    },
    handler: async ({ params, req, res }) => {
      const post = await posts.read(viewerOf(res), params.id);
      return cachedRead(req, toPostView(post), post.published ? 'public' : 'private', maxAge);
    },
  });

  api.route({
    method: 'patch',
    path: `${BASE}/{id}`,
    summary: 'Change a post (its author or an admin); publishing it the first time sets published_at',
    tags,
    access: 'bearer',
    params: PostIdParams,
    body: UpdatePostRequest,
    bodyOptions: { limit: POST_BODY_LIMIT, types: ['application/json'] },
    responses: {
      200: { description: 'The post', schema: PostView, headers: CACHE_HEADERS },
      403: 'You may read the post but not change it: not its author nor an admin (forbidden)',
      404: hidden,
    },
    handler: async ({ params, body, res }) => written(200, toPostView(await posts.update(actorOf(res), params.id, body))),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/{id}`,
    summary: 'Delete a post and its comments (its author or an admin)',
    tags,
    access: 'bearer',
    params: PostIdParams,
    responses: {
      204: { description: 'Deleted, with its comments' },
      403: 'You may read the post but not delete it: not its author nor an admin (forbidden)',
      404: hidden,
    },
    handler: async ({ params, res }) => {
      await posts.delete(actorOf(res), params.id);
      return { status: 204 };
    },
  });
};
