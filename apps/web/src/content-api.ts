/**
 * The calls of the content pages: posts and comments (docs/posts.md), follows (docs/users.md,
 * "Follows") and the feeds (docs/feed.md), each through `api` like every other call of the app.
 */
import { api, ApiError } from './api';
import type { Comment, Follow, Post, PostInput } from './types';

const part = encodeURIComponent;

/** `path` with the query parameters that have a value. */
const query = (path: string, params: Record<string, string | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `${path}?${text}` : path;
};

/** The paths the pages read (lists take `cursor` from their `next_cursor`). */
export const paths = {
  posts: (filter: { author?: string; tag?: string } = {}) => query('/api/v1/posts', filter),
  myPosts: '/api/v1/posts/mine',
  search: (q: string) => query('/api/v1/posts/search', { q }),
  post: (id: string) => `/api/v1/posts/${part(id)}`,
  comments: (postId: string) => `/api/v1/posts/${part(postId)}/comments`,
  comment: (postId: string, commentId: string) => `/api/v1/posts/${part(postId)}/comments/${part(commentId)}`,
  user: (id: string) => `/api/v1/users/${part(id)}`,
  follow: (id: string) => `/api/v1/users/${part(id)}/follow`,
  follows: (id: string, direction: 'followers' | 'following') => `/api/v1/users/${part(id)}/${direction}`,
  homeFeed: '/api/v1/feed/home',
  globalFeed: '/api/v1/feed/global',
};

export const readPost = (id: string): Promise<Post> => api<Post>('GET', paths.post(id));
export const createPost = (input: PostInput): Promise<Post> => api<Post>('POST', '/api/v1/posts', input);
export const updatePost = (id: string, changes: Partial<PostInput>): Promise<Post> => api<Post>('PATCH', paths.post(id), changes);
export const deletePost = (id: string): Promise<void> => api<void>('DELETE', paths.post(id));

export const addComment = (postId: string, body: string): Promise<Comment> => api<Comment>('POST', paths.comments(postId), { body });
export const editComment = (postId: string, commentId: string, body: string): Promise<Comment> =>
  api<Comment>('PATCH', paths.comment(postId, commentId), { body });
export const deleteComment = (postId: string, commentId: string): Promise<void> => api<void>('DELETE', paths.comment(postId, commentId));

export const follow = (userId: string): Promise<Follow> => api<Follow>('PUT', paths.follow(userId));
export const unfollow = (userId: string): Promise<void> => api<void>('DELETE', paths.follow(userId));
/** The caller's follow of `userId`, or null when they do not follow them (404 `not_following`). */
export const followOf = async (userId: string): Promise<Follow | null> => {
  try {
    return await api<Follow>('GET', paths.follow(userId));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_following') return null;
    throw error;
  }
};

/**
 * Tags as typed: separated by commas or spaces, a leading # dropped, lower-cased, each once. The
 * API checks the rest (at most 10, each a slug) and names the tag it refuses.
 */
export const parseTags = (text: string): string[] => [
  ...new Set(
    text
      .split(/[\s,]+/)
      .map((tag) => tag.replace(/^#+/, '').toLowerCase())
      .filter((tag) => tag !== ''),
  ),
];
