/**
 * The web app (apps/web, a Vite build) served by the gateway at `/`: its hashed files under
 * /assets are cached for a year, and every other page path gets index.html, never cached, so that
 * a deploy takes effect at the next navigation. The HTML's Content-Security-Policy allows scripts
 * and styles from this origin only: no inline script, no third party.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@galion/kit';
import express, { type RequestHandler } from 'express';

export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API and the platform, never to the app. */
const NOT_APP = /^\/(api|docs|livez|readyz|metrics)(\/|$)/;
/** A page path: no file extension in its last segment. */
const PAGE = /^\/([^.]*\/)*[^./]*$/;

/** The app's build folder: WEB_APP_DIR, else the @galion/web package's dist when it has been built. */
export const findWebAppDir = (configured: string | undefined): string | undefined => {
  if (configured) return configured;
  try {
    const dir = join(require.resolve('@galion/web/package.json'), '..', 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
};

export const webAppHandler = (dir: string): RequestHandler => {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) throw new Error(`WEB_APP_DIR ${dir} has no index.html: build the web app (pnpm --filter @galion/web build)`);
  const index = readFileSync(indexFile);
  const assets = express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false });
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_APP.test(req.path)) return next();
    if (req.path.startsWith('/assets/')) {
      res.locals.routeTemplate = '/assets/*';
      req.url = req.url.slice('/assets'.length);
      return assets(req, res, (error?: unknown) => {
        const status = (error as { status?: number } | undefined)?.status;
        next(status === 404 || status === 403 ? new AppError(404, 'not_found', 'No such file of the web app.') : error);
      });
    }
    if (!PAGE.test(req.path)) return next();
    res.locals.routeTemplate = '/{page}';
    res
      .status(200)
      .set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Security-Policy': WEB_APP_CSP })
      .end(req.method === 'HEAD' ? undefined : index);
  };
};
