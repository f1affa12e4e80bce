/**
 * The browser's refresh token: an HttpOnly cookie that script cannot read, sent only to the refresh
 * and logout paths, only to this site (SameSite=Strict), over TLS when the public URL is https. A
 * request that relies on the cookie must also carry the X-CSRF-Protection header, which a page of
 * another site cannot add without a CORS preflight that Galion refuses, and an Origin, when the
 * browser sends one, that is Galion's own.
 */
import { forbidden } from '@galion/kit';

export const REFRESH_COOKIE = 'galion_refresh';
// Not an X-Galion-* name: the gateway strips those from clients (they could claim an identity).
export const CSRF_HEADER = 'x-csrf-protection';

export interface RefreshCookieSettings {
  /** The paths the cookie is sent to (one cookie each: a cookie has a single Path). */
  paths: string[];
  secure: boolean;
  maxAgeSeconds: number;
  /** The public origin (scheme, host, port) a browser's Origin header must match. */
  origin: string;
}

const attributes = (path: string, maxAgeSeconds: number, secure: boolean): string =>
  `Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

/** Set-Cookie values that store `token` for every path. */
export const refreshCookies = (token: string, settings: RefreshCookieSettings): string[] =>
  settings.paths.map((path) => `${REFRESH_COOKIE}=${token}; ${attributes(path, settings.maxAgeSeconds, settings.secure)}`);

/** Set-Cookie values that remove the cookie from every path. */
export const clearedRefreshCookies = (settings: RefreshCookieSettings): string[] =>
  settings.paths.map((path) => `${REFRESH_COOKIE}=; ${attributes(path, 0, settings.secure)}`);

/** The refresh cookie's value in a Cookie header, if there is one. */
export const readRefreshCookie = (header: string | undefined): string | undefined => {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === REFRESH_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
};

/** Refuses a cookie-carried request that a page of another site could have made. */
export const checkCsrf = (headers: { csrf: string | undefined; origin: string | undefined }, settings: RefreshCookieSettings): void => {
  if (headers.csrf !== '1')
    throw forbidden(`A request with the refresh cookie needs the header X-CSRF-Protection: 1.`, 'csrf_check_failed');
  if (headers.origin !== undefined && headers.origin !== settings.origin) {
    throw forbidden(`Requests with the refresh cookie are accepted from ${settings.origin} only.`, 'csrf_check_failed');
  }
};
