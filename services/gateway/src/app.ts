import { ApiRouter, createHttpApp, runWithContext, z, type Health, type Logger, type ServiceMetrics } from '@galion/kit';
import { authenticate, isAuthError, type TokenVerifier } from '@galion/tokens';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import { routeAccess, type RouteAccess } from './access.js';
import { bodyLimitGuard } from './body.js';
import type { UpstreamConfig } from './config.js';
import { DOCS_CSP, DOCS_HTML } from './docs-page.js';
import { prepareUpstreamHeaders } from './headers.js';
import type { OpenApiAggregator } from './openapi.js';
import type { RateLimiters } from './rate-limit.js';

export interface GatewayAppDeps {
  logger: Logger;
  metrics: ServiceMetrics;
  health: Health;
  upstreams: UpstreamConfig[];
  /** The proxy handler of each upstream, by name. */
  proxies: Map<string, RequestHandler>;
  verifier: TokenVerifier;
  limiters: RateLimiters;
  openapi: OpenApiAggregator;
  corsOrigins?: string[];
  bodyLimit: string;
  trustProxy?: number;
  serveMetrics?: boolean;
}

const accessOf = (res: express.Response) => res.locals.access as RouteAccess;

/**
 * The proxied routes, one sub-router per upstream. In order: match the prefix (the path is never
 * rewritten), clean the headers, verify the token unless the route is public, rate-limit,
 * enforce the body limit, then proxy. Every rejection happens before the upstream is touched.
 */
const proxyRoutes = (deps: GatewayAppDeps): Router => {
  const router = express.Router();
  const verify = authenticate(deps.verifier);
  const guardBody = bodyLimitGuard(deps.bodyLimit);
  // A failed token still counts against the caller's IP, so bad tokens cannot be sent unlimited.
  const limitFailedAuth: ErrorRequestHandler = (error, req, res, next) => {
    if (isAuthError(error)) deps.limiters.ip(req, res, () => next(error));
    else next(error);
  };
  for (const upstream of deps.upstreams) {
    const proxy = deps.proxies.get(upstream.name);
    if (!proxy) throw new Error(`no proxy for upstream ${upstream.name}`);
    const template = `${upstream.prefix}/*`;
    const sub = express.Router();
    sub.use((req, res, next) => {
      if (req.path !== upstream.prefix && !req.path.startsWith(`${upstream.prefix}/`)) {
        next('router');
        return;
      }
      res.locals.routeTemplate = template;
      res.locals.access = routeAccess(req.method, req.path);
      prepareUpstreamHeaders(req);
      runWithContext({ requestId: req.id }, next);
    });
    sub.use((req, res, next) => (accessOf(res).public ? next() : verify(req, res, next)));
    sub.use(limitFailedAuth);
    sub.use((req, res, next) => {
      const access = accessOf(res);
      return deps.limiters[access.public ? access.policy : 'user'](req, res, next);
    });
    sub.use(guardBody);
    sub.use(proxy);
    router.use(sub);
  }
  return router;
};

/** The gateway's own routes: the merged OpenAPI document and the docs page. */
const gatewayRoutes = (deps: GatewayAppDeps): ApiRouter =>
  new ApiRouter()
    .route({
      method: 'get',
      path: '/api/v1/openapi.json',
      summary: 'The OpenAPI 3.1 document of the whole platform (every service, merged)',
      tags: ['gateway'],
      before: [deps.limiters.ip],
      responses: { 200: { description: 'The merged document.', schema: z.object({}).passthrough() }, 429: 'Rate limited.' },
      handler: async ({ res }) => {
        res.set('Cache-Control', 'public, max-age=60');
        return { body: await deps.openapi.document() };
      },
    })
    .route({
      method: 'get',
      path: '/docs',
      summary: 'API documentation page rendering the merged OpenAPI document',
      tags: ['gateway'],
      before: [deps.limiters.ip],
      responses: { 200: { description: 'An HTML page.', schema: z.string(), contentType: 'text/html' }, 429: 'Rate limited.' },
      handler: ({ res }) => {
        res.set('Content-Security-Policy', DOCS_CSP).type('html').send(DOCS_HTML);
      },
    });

/** The gateway HTTP app, built from its dependencies; it does not listen. */
export const createGatewayApp = (deps: GatewayAppDeps): Express =>
  createHttpApp(
    {
      service: 'gateway',
      logger: deps.logger,
      metrics: deps.metrics,
      health: deps.health,
      corsOrigins: deps.corsOrigins,
      bodyLimit: deps.bodyLimit,
      trustProxy: deps.trustProxy,
      serveMetrics: deps.serveMetrics,
      // Before JSON parsing: proxied bodies stream through untouched.
      mount: (app) => app.use(proxyRoutes(deps)),
    },
    gatewayRoutes(deps),
  );
