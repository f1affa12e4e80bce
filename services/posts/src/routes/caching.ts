import type { Reply, ResponseHeaderSpec } from '@galion/kit';
import type { Request, RequestHandler } from 'express';
import { cacheControl, ifNoneMatchHits, strongEtag, type Audience } from '../http-cache.js';

/** The headers a cached read declares, on its 200 and its 304. */
export const CACHE_HEADERS: Record<string, ResponseHeaderSpec> = {
  ETag: { description: 'A strong validator of this representation; send it back in If-None-Match.', schema: { type: 'string' } },
  'Cache-Control': {
    description:
      '`public, max-age=60` (POSTS_PUBLIC_MAX_AGE_SECONDS) for published content, `private, no-store` for drafts and your own list.',
    schema: { type: 'string' },
  },
};

export const IF_NONE_MATCH = { 'If-None-Match': 'The ETag of a copy already held: 304 Not Modified while it is still the current one.' };

export const notModified = (what: string) => ({
  description: `Not modified: If-None-Match names the current ${what}.`,
  headers: CACHE_HEADERS,
});

/** Before a read runs: errors (a 404 above all) are never stored by a cache. Its answer sets its own. */
export const noStoreUntilAnswered: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'private, no-store');
  next();
};

/** A read's answer: the representation with its ETag and Cache-Control, or 304 when the client holds it already. */
export const cachedRead = (req: Request, body: unknown, audience: Audience, maxAgeSeconds: number): Reply => {
  const etag = strongEtag(body);
  const headers = { ETag: etag, 'Cache-Control': cacheControl(audience, maxAgeSeconds) };
  if (ifNoneMatchHits(req.get('if-none-match'), etag)) return { status: 304, headers };
  return { status: 200, body, headers };
};

/** A write's answer: the representation with its ETag, never stored. */
export const written = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body,
  headers: { ...headers, ETag: strongEtag(body), 'Cache-Control': 'private, no-store' },
});
