import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ApiRouter } from './api-router.js';
import type { CommonConfig } from './config.js';
import { runWithContext } from './context.js';
import { sendError, toAppError } from './error-mapping.js';
import { AppError, methodNotAllowed } from './errors.js';
import type { Health } from './health.js';
import type { Logger } from './logger.js';
import { metricsHandler } from './metrics-endpoint.js';
import { helmetHeaders } from './security-headers.js';
import { Counter, routeLabel, type ServiceMetrics } from './metrics.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request id: the caller's sane `X-Request-ID`, or one generated here. */
      id: string;
    }
  }
}

/** What every service's app takes from the service's composition, besides its own routes. */
export interface HttpAppBase {
  logger: Logger;
  metrics: ServiceMetrics;
  health: Health;
  corsOrigins?: string[];
  bodyLimit?: string;
  /** How many proxy hops to trust for the client address (X-Forwarded-For). */
  trustProxy?: number;
  /** Serve `/metrics` on this app; false when a separate metrics port serves it. */
  serveMetrics?: boolean;
  /**
   * Requests served at once at most (0: no bound). Past it a request is answered 503 with
   * Retry-After at once instead of waiting behind the others; the probes always pass.
   */
  maxInFlight?: number;
  /** Hold every answer of the API routes to their declaration (tests and the contract run; see ApiRouter). */
  checkResponses?: boolean;
}

export interface HttpAppOptions extends HttpAppBase {
  service: string;
  openapi?: { path: string; title: string; version: string; description?: string };
  /** Extra routes mounted before the API, e.g. the gateway's proxies. */
  mount?: (app: Express) => void;
}

/** The HttpAppBase part of a service's app dependencies (and nothing else of them). */
export const httpAppBase = (deps: HttpAppBase): HttpAppBase => ({
  logger: deps.logger,
  metrics: deps.metrics,
  health: deps.health,
  corsOrigins: deps.corsOrigins,
  bodyLimit: deps.bodyLimit,
  trustProxy: deps.trustProxy,
  serveMetrics: deps.serveMetrics,
  maxInFlight: deps.maxInFlight,
  checkResponses: deps.checkResponses,
});

/** The HttpAppBase settings that come from the common config, the same way in every service. */
export const httpSettings = (
  config: Pick<CommonConfig, 'corsOrigins' | 'bodyLimit' | 'trustProxy' | 'maxInFlight' | 'checkResponses' | 'metricsPort' | 'port'>,
): Required<Pick<HttpAppBase, 'corsOrigins' | 'bodyLimit' | 'trustProxy' | 'maxInFlight' | 'checkResponses' | 'serveMetrics'>> => ({
  corsOrigins: config.corsOrigins,
  bodyLimit: config.bodyLimit,
  trustProxy: config.trustProxy,
  maxInFlight: config.maxInFlight,
  checkResponses: config.checkResponses,
  serveMetrics: config.metricsPort === undefined || config.metricsPort === config.port,
});

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const PROBE_PATHS = new Set(['/livez', '/readyz', '/metrics']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * The Express app every service is: request ids, logs, metrics, security headers, CORS, probes,
 * JSON parsing with the platform's error answers, the service's routes, 404/405, one error handler.
 */
export const createHttpApp = (options: HttpAppOptions, api?: ApiRouter): Express => {
  const { logger, metrics, health } = options;
  const bodyLimit = options.bodyLimit ?? '100kb';
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? 1);
  app.set('query parser', 'simple');

  const securityHeaders = helmetHeaders();
  const maxInFlight = options.maxInFlight ?? 0;
  const shed = new Counter({
    name: 'http_server_shed_total',
    help: 'Requests answered 503 at once because the process was serving its maximum (MAX_IN_FLIGHT_REQUESTS).',
    registers: [metrics.registry],
  });
  let inFlight = 0;
  // One middleware for what every request needs first: an id, security headers, a metric and a log line.
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-ID', req.id);
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    if (maxInFlight > 0 && !PROBE_PATHS.has(req.path)) {
      if (inFlight >= maxInFlight) {
        // Shedding costs next to nothing; queueing would make every client wait.
        shed.inc();
        res
          .status(503)
          .set('Retry-After', '1')
          .json({ error: 'overloaded', message: 'The service is at capacity; try again in a moment.', request_id: req.id });
        return;
      }
      inFlight += 1;
      res.once('close', () => {
        inFlight -= 1;
      });
    }
    // So a trace can be found from the request id a client reports.
    trace.getActiveSpan()?.setAttribute('http.request.id', req.id);
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(res);
      metrics.httpRequestDuration.observe({ method: req.method, route, status_code: String(res.statusCode) }, seconds);
      const level = res.statusCode >= 500 ? 'error' : PROBE_PATHS.has(req.path) ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          request_id: req.id,
          ...(res.locals.userId ? { user_id: res.locals.userId } : {}),
          method: req.method,
          path: req.path,
          route,
          status: res.statusCode,
          duration_ms: Math.round(seconds * 1e5) / 100,
        },
        'request served',
      );
    });
    next();
  });
  const allowed = options.corsOrigins ?? [];
  if (allowed.length > 0) {
    app.use(
      cors({
        origin: allowed.includes('*') ? true : allowed,
        credentials: !allowed.includes('*'),
        exposedHeaders: ['X-Request-ID', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'WWW-Authenticate'],
        maxAge: 600,
      }),
    );
  }

  // Before the probes: the proxied prefixes never overlap them, and most traffic is proxied.
  options.mount?.(app);

  app.get('/livez', (_req, res) => {
    res.locals.routeTemplate = '/livez';
    res.json({ status: 'alive' });
  });
  app.get('/readyz', async (_req, res) => {
    res.locals.routeTemplate = '/readyz';
    const report = await health.readiness();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  });
  if (options.serveMetrics !== false) app.get('/metrics', metricsHandler(metrics));

  const jsonBody = express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] });
  app.use((req, res, next) => {
    // A route declaring `bodyOptions` or `rawBody` checks and reads its body itself; a request no
    // route serves is answered 404 or 405, never 415 for a body that is not read.
    if (api && api.bodyReader(req.method, req.path) !== 'json') return next();
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (BODY_METHODS.has(req.method) && hasBody && !req.is(['application/json', 'application/*+json'])) {
      next(new AppError(415, 'unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).'));
      return;
    }
    jsonBody(req, res, next);
  });
  // The request context starts after body parsing: stream callbacks would otherwise lose it.
  app.use((req, _res, next) => runWithContext({ requestId: req.id }, next));

  if (api) {
    if (options.checkResponses) api.enableResponseChecks();
    if (options.openapi) {
      const { path, ...info } = options.openapi;
      const document = api.openApiDocument(info);
      app.get(path, (_req, res) => {
        res.locals.routeTemplate = path;
        res.json(document);
      });
    }
    // OPTIONS is answered here, not by Express's router, whose Allow would name the methods of
    // every template matching the path, shadowed ones included.
    app.use((req, res, next) => (req.method === 'OPTIONS' ? unrouted(req, res, next) : next()));
    app.use(api.router);
  }

  /** A request no route served: 404 for an unknown path, else its Allow, and 204 for OPTIONS or 405. */
  const unrouted: RequestHandler = (req, res, next) => {
    const methods = api?.allowedMethods(req.path) ?? [];
    if (methods.length === 0) {
      next(new AppError(404, 'not_found', `No route matches ${req.method} ${req.path}.`));
      return;
    }
    res.set('Allow', methods.join(', '));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(methodNotAllowed(req.method, methods));
  };
  app.use(unrouted);

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appError = toAppError(error, bodyLimit);
    if (appError.status >= 500) {
      logger.error({ err: appError.cause ?? error, request_id: req.id, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(req, res, appError);
  });

  return app;
};
