import { createHash } from 'node:crypto';

/**
 * HTTP caching of posts' reads, pure: the strong ETag of a representation (a hash of the JSON
 * sent, so it changes exactly when the answer does, whatever part of it changed) and the
 * If-None-Match check (RFC 9110, 13.1.2).
 */
export const strongEtag = (body: unknown): string =>
  `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 32)}"`;

/**
 * Whether If-None-Match names this ETag: `*`, or a list of entity tags compared weakly (W/"x"
 * matches "x"), as the RFC asks of If-None-Match. An unparsable header matches nothing.
 */
export const ifNoneMatchHits = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false;
  const value = header.trim();
  if (value === '*') return true;
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  const wanted = opaque(etag);
  const tags = value.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.some((tag) => opaque(tag) === wanted);
};

/** Who may keep an answer: anyone's cache for published content, the caller's only and not stored otherwise. */
export type Audience = 'public' | 'private';

export const cacheControl = (audience: Audience, maxAgeSeconds: number): string =>
  audience === 'public' ? `public, max-age=${maxAgeSeconds}` : 'private, no-store';
