import type { ApiRouter } from '@galion/kit';
import { authOf } from '@galion/tokens';
import type { FeedEntry, FeedReader } from '../domain/feed-reader.js';
import { FeedPage, FeedQuery } from '../schemas.js';

export const BASE = '/api/v1/feed';
const tags = ['feed'];
const badPage = 'Invalid input (validation_failed), or a cursor this feed did not give out (invalid_cursor)';
const order =
  'Newest first. A page’s `next_cursor` is its last entry’s position (time, id): entries added meanwhile never shift the next page, so paging shows no entry twice and skips none that was there when paging began. The feed reaches back at most FEED_MAX_ENTRIES entries and FEED_ENTRY_TTL_DAYS days.';

const toEntryView = (entry: FeedEntry) => ({
  id: entry.id,
  kind: entry.kind,
  actor_id: entry.actor,
  post_id: entry.post_id,
  title: entry.title ?? null,
  tags: entry.tags ?? [],
  comment_id: entry.comment_id ?? null,
  post_author_id: entry.post_author_id ?? null,
  time: entry.time,
});

const toPageView = (page: { items: FeedEntry[]; nextCursor: string | null }) => ({
  items: page.items.map(toEntryView),
  next_cursor: page.nextCursor,
});

export const registerFeedRoutes = (api: ApiRouter, { reader }: { reader: FeedReader }): void => {
  api.route({
    method: 'get',
    path: `${BASE}/home`,
    summary: 'The caller’s home feed: new posts of the people they follow and comments on their own posts',
    description: `${order} Posts of accounts with very many followers are merged in when read (docs/feed.md).`,
    tags,
    access: 'bearer',
    query: FeedQuery,
    responses: { 200: { description: 'A page of the home feed', schema: FeedPage }, 400: badPage },
    handler: async ({ query, res }) => ({ body: toPageView(await reader.home(authOf(res).sub, query)) }),
  });

  api.route({
    method: 'get',
    path: `${BASE}/global`,
    summary: 'The global feed: everyone’s recent posts and comments',
    description: order,
    tags,
    access: { public: 'ip' },
    query: FeedQuery,
    responses: { 200: { description: 'A page of the global feed', schema: FeedPage }, 400: badPage },
    handler: async ({ query }) => ({ body: toPageView(await reader.global(query)) }),
  });
};
