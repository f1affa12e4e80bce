import { ApiRouter, createHttpApp, methodNotAllowed, httpAppBase, nameServerSpan, runWithContext, setContextUser, z, type HttpAppBase } from '@galion/kit';
import { bearerToken, isAuthError, tokenMissing, type AccessClaims, type TokenVerifier } from '@galion/tokens';
import type { Express, RequestHandler, Response } from 'express';
import { routeAccess, type RouteAccess } from './access.js';
import { bodyLimitGuard } from './body.js';
import { chain } from './chain.js';
import type { UpstreamConfig } from './config.js';
import type { DocsSite } from './docs.js';
import { prepareUpstreamHeaders } from './headers.js';
import type { OpenApiAggregator, OpenApiDocument } from './openapi.js';
import type { RateLimiters } from './rate-limit.js';
import type { TrackScript } from './track-script.js';

export interface GatewayAppDeps extends HttpAppBase {
  upstreams: UpstreamConfig[];
  /** The proxy handler of each upstream, by name. */
  proxies: Map<string, RequestHandler>;
  /** Verifies tokens (signature checks cached by token; revocation checked on every request). */
  verifier: TokenVerifier;
  limiters: RateLimiters;
  openapi: OpenApiAggregator;
  bodyLimit: string;
  /** The docs page at /docs and its files (docs.ts). */
  docs: DocsSite;
  /** The tracking script at /track.js (track-script.ts). */
  trackScript: TrackScript;
  /** Serves the web app at `/` (web-app.ts); none: only the API. */
  webApp?: RequestHandler;
}

const accessOf = (res: Response) => res.locals.access as RouteAccess;

/**
 * The proxied routes: the upstream is chosen by path prefix (the path is never rewritten). Then,
 * in order: clean the headers, verify the token unless the route is public and rate-limit,
 * enforce the body limit, proxy. Every rejection happens before the upstream is touched.
 */
const proxyRoutes = (deps: GatewayAppDeps): RequestHandler => {
  const guardDefault = bodyLimitGuard(deps.bodyLimit);
  const routeGuards = new Map<string, RequestHandler>();
  /** The body limit of the route (a public route may declare its own), enforced before the upstream. */
  const guardBody: RequestHandler = (req, res, next) => {
    const own = accessOf(res).bodyLimit;
    if (!own) return guardDefault(req, res, next);
    let guard = routeGuards.get(own);
    if (!guard) routeGuards.set(own, (guard = bodyLimitGuard(own)));
    return guard(req, res, next);
  };
  const { verifier, limiters } = deps;

  /**
   * A method the path's route does not take is a 405, counted per IP. Public routes count under their policy, unless the route takes an optional token and one was
   * sent: that request is treated as an authenticated one. Otherwise the token is verified (signature and
   * claims, no I/O), then the revocation look-up and the per-user count run side by side: one
   * Redis round trip of latency instead of two. A bad token counts against the caller's IP.
   */
  const admit: RequestHandler = async (req, res, next) => {
    const access = accessOf(res);
    const { allow } = access;
    if (allow) return limiters.ip(req, res, () => next(methodNotAllowed(req.method, allow)));
    const withToken = access.optionalToken === true && req.headers.authorization !== undefined;
    if (access.public && !withToken) return limiters[access.policy](req, res, next);
    let claims: AccessClaims;
    try {
      const token = bearerToken(req.get('authorization'));
      if (!token) throw tokenMissing();
      claims = await verifier.verifyStateless(token);
    } catch (error) {
      if (isAuthError(error)) return limiters.ip(req, res, () => next(error));
      throw error;
    }
    res.locals.auth = claims;
    res.locals.userId = claims.sub;
    setContextUser(claims.sub);
    let limited: { passed: boolean; error?: unknown } = { passed: false };
    const [revocation] = await Promise.allSettled([
      verifier.checkRevocation(claims),
      Promise.resolve(limiters.user(req, res, (error?: unknown) => (limited = { passed: !error, error }))),
    ]);
    if (res.headersSent) return; // the limiter answered 429
    if (revocation.status === 'rejected') throw revocation.reason;
    if (limited.error) throw limited.error;
    if (limited.passed) next();
  };

  const routes = deps.upstreams.map((upstream) => {
    const proxy = deps.proxies.get(upstream.name);
    if (!proxy) throw new Error(`no proxy for upstream ${upstream.name}`);
    return {
      prefix: upstream.prefix,
      under: `${upstream.prefix}/`,
      template: `${upstream.prefix}/*`,
      handle: chain([admit, guardBody, proxy]),
    };
  });

  return (req, res, next) => {
    const path = req.path;
    const route = routes.find((candidate) => path === candidate.prefix || path.startsWith(candidate.under));
    if (!route) return next();
    res.locals.routeTemplate = route.template;
    nameServerSpan(route.template);
    res.locals.access = routeAccess(req.method, path);
    prepareUpstreamHeaders(req);
    runWithContext({ requestId: req.id }, () => route.handle(req, res, next));
  };
};

/**
 * The gateway's own routes: the merged OpenAPI document (which lists these routes too), the
 * docs page and the tracking script.
 */
const gatewayRoutes = (deps: GatewayAppDeps): ApiRouter => {
  const api = new ApiRouter();
  let own: OpenApiDocument | undefined;
  return api
    .route({
      method: 'get',
      path: '/api/v1/openapi.json',
      access: { public: 'ip' },
      summary: 'The OpenAPI 3.1 document of the whole platform (every service, merged)',
      tags: ['gateway'],
      before: [deps.limiters.ip],
      responses: {
        200: { description: 'The merged document.', schema: z.object({}).passthrough() },
        429: 'Too many requests from this address (rate_limited); see Retry-After.',
      },
      handler: async ({ res }) => {
        own ??= api.openApiDocument({ title: 'Galion gateway', version: '1.0.0' }) as OpenApiDocument;
        res.set('Cache-Control', 'public, max-age=60');
        return { body: await deps.openapi.document([{ name: 'gateway', document: own }]) };
      },
    })
    .route({
      method: 'get',
      path: '/docs',
      access: { public: 'ip' },
      summary: 'API documentation page (Swagger UI) rendering the merged OpenAPI document, with try-it',
      tags: ['gateway'],
      before: [deps.limiters.ip],
      responses: {
        200: { description: 'An HTML page.', schema: z.string(), contentType: 'text/html' },
        429: 'Too many requests from this address (rate_limited); see Retry-After.',
      },
      handler: ({ res }) => deps.docs.sendPage(res),
    })
    .route({
      method: 'get',
      path: '/track.js',
      access: { public: 'ip' },
      summary: 'The tracking script (@galion/track) for a site’s script tag: page views and events for the tracking API',
      description:
        'Load it with `<script defer src="https://<galion>/track.js" data-key="pk_…"></script>`; it sets `window.galion` (`track`, `pageView`, `flush`). Cached for an hour, revalidated by ETag, loadable from any site (`Cross-Origin-Resource-Policy: cross-origin`).',
      tags: ['gateway'],
      before: [deps.limiters.ip],
      headers: { 'If-None-Match': 'The ETag of a copy already held: 304 when it is still the current script.' },
      responses: {
        200: {
          description: 'The script (gzipped when Accept-Encoding allows).',
          schema: z.string(),
          contentType: 'application/javascript',
          headers: {
            ETag: { description: 'This version of the script.', schema: { type: 'string' } },
            'Cache-Control': { description: '`public, max-age=3600`.', schema: { type: 'string' } },
          },
        },
        304: { description: 'Not modified: If-None-Match names the current script.' },
        429: 'Too many requests from this address (rate_limited); see Retry-After.',
      },
      handler: ({ req, res }) => deps.trackScript.send(req, res),
    });
};

/** The gateway HTTP app, built from its dependencies; it does not listen. */
export const createGatewayApp = (deps: GatewayAppDeps): Express =>
  createHttpApp(
    {
      service: 'gateway',
      ...httpAppBase(deps),
      // Before JSON parsing: proxied bodies stream through untouched.
      mount: (app) => {
        app.use(proxyRoutes(deps));
        app.use(deps.docs.assets);
        if (deps.webApp) app.use(deps.webApp);
      },
    },
    gatewayRoutes(deps),
  );
