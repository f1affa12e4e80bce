import { createHash } from 'node:crypto';

/** The limits of the tracking API; the document states each (tracking-schemas.ts). */
export const MAX_BATCH_EVENTS = 500;
export const TRACK_BODY_LIMIT = '1mb';
export const MAX_EVENT_PAST_MS = 7 * 24 * 3_600_000;
export const MAX_EVENT_FUTURE_MS = 3_600_000;
export const MAX_PROPERTIES = 50;
export const MAX_PROPERTIES_BYTES = 8_192;
export const MAX_PROPERTY_STRING = 1_000;
export const MAX_URL_LENGTH = 2_048;
/** The name of page views: the page and referrer queries count these. */
export const PAGE_VIEW = 'page_view';

export type { AppEventRecord } from '../repositories/app-events.js';

/** Why an event's time is refused, or undefined when it is within bounds. */
export const timeProblem = (time: number, now: number): string | undefined => {
  if (time > now + MAX_EVENT_FUTURE_MS) return 'time: more than 1 hour ahead of the server’s clock';
  if (time < now - MAX_EVENT_PAST_MS) return 'time: more than 7 days in the past';
  return undefined;
};

/** Host and path of a URL, without its query string or fragment (they may hold personal data). */
export const urlParts = (url: string | undefined): { host: string | null; path: string | null } => {
  if (!url) return { host: null, path: null };
  const parsed = new URL(url);
  return { host: parsed.host.toLowerCase(), path: parsed.pathname || '/' };
};

/** The referrer's host, unless there is none or it is the page's own host (an internal navigation). */
export const referrerHost = (referrer: string | undefined, pageHost: string | null): string | null => {
  if (!referrer) return null;
  const host = new URL(referrer).host.toLowerCase();
  return host === pageHost ? null : host;
};

const digest = (...parts: (string | Buffer)[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('base64url').slice(0, 22);
};

export interface VisitorSource {
  userId?: string | undefined;
  site: string;
  anonymousId?: string | undefined;
  /** The day's salt (VisitorSalts): unknown after the day, so the hash cannot be recomputed from an address. */
  salt: Buffer;
  ip: string;
  userAgent: string;
}

/**
 * Who an event counts as, without storing who they are: the user for token-sent events; else a
 * hash of the site and the application's anonymous id; else, as Plausible does, a hash of the
 * day's salt, the site, the address and the user agent — the same visitor within a day, someone
 * new the next.
 */
export const visitorOf = (source: VisitorSource): string => {
  if (source.userId) return `u:${source.userId}`;
  if (source.anonymousId) return `a:${digest(source.site, source.anonymousId)}`;
  return `d:${digest(source.salt, source.site, source.ip, source.userAgent)}`;
};
