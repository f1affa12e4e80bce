import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { AppError, sendError, type Logger } from '@galion/kit';
import type { Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { CircuitBreaker, Permit } from './breaker.js';
import type { UpstreamConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';

/** Methods whose repetition has the effect of one call (RFC 9110 §9.2.2): a retry is safe. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The connection could not be made: nothing reached the upstream. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);
/** The connection broke before a response (e.g. a keep-alive socket the upstream had just closed). */
const CONNECTION_BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export const upstreamUnavailable = (upstream: string, retryAfterSeconds = 5) =>
  new AppError(503, 'upstream_unavailable', `The ${upstream} service is unavailable. Try again shortly.`, {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

const upstreamTimeout = (upstream: string, ms: number) =>
  new AppError(504, 'upstream_timeout', `The ${upstream} service did not answer within ${ms} ms.`);

const upstreamError = (upstream: string) =>
  new AppError(502, 'upstream_error', `The connection to the ${upstream} service broke before it answered.`);

/** The life of one client request through the proxy: one or two attempts, one outcome. */
interface Exchange {
  req: Request;
  res: Response;
  permit: Permit | undefined;
  /** The request body, read ahead so that a retry can send it again. */
  body: Buffer | undefined;
  attempt: number;
  startedAt: bigint;
  timer: NodeJS.Timeout | undefined;
  proxyReq: ClientRequest | undefined;
  done: boolean;
}

export interface UpstreamProxyDeps {
  upstream: UpstreamConfig;
  agent: Agent;
  breaker: CircuitBreaker | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * The proxy to one upstream: http-proxy-middleware over a keep-alive agent, path unchanged, with
 * a time limit for the response headers, one retry of idempotent requests whose connection
 * failed, and the circuit breaker's verdict on every outcome.
 */
export const createUpstreamProxy = (deps: UpstreamProxyDeps): RequestHandler => {
  const { upstream, breaker, metrics, logger } = deps;
  const exchanges = new WeakMap<IncomingMessage, Exchange>();

  const observe = (exchange: Exchange, status: number) => {
    const seconds = Number(process.hrtime.bigint() - exchange.startedAt) / 1e9;
    metrics.upstreamDuration.observe({ upstream: upstream.name, status_code: String(status) }, seconds);
  };

  const finish = (exchange: Exchange, outcome: 'success' | 'failure' | 'release') => {
    exchange.done = true;
    clearTimeout(exchange.timer);
    exchange.permit?.[outcome]();
  };

  const fail = (exchange: Exchange, error: AppError) => {
    const { req, res } = exchange;
    observe(exchange, error.status);
    finish(exchange, 'failure');
    if (res.headersSent) res.destroy();
    else sendError(req, res, error);
  };

  const events: Plugin<Request, Response> = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      const exchange = exchanges.get(req);
      if (!exchange) return;
      exchange.proxyReq = proxyReq;
      if (exchange.done) {
        proxyReq.destroy();
        return;
      }
      if (exchange.body) proxyReq.write(exchange.body);
    });
    proxyServer.on('proxyRes', (proxyRes, req) => {
      const exchange = exchanges.get(req);
      if (!exchange || exchange.done) return;
      const status = proxyRes.statusCode ?? 502;
      observe(exchange, status);
      finish(exchange, status >= 500 ? 'failure' : 'success');
    });
    proxyServer.on('error', (error: NodeJS.ErrnoException, req) => {
      const exchange = exchanges.get(req as IncomingMessage);
      if (!exchange || exchange.done) return;
      clearTimeout(exchange.timer);
      const code = error.code ?? '';
      const connectFailed = CONNECT_FAILURES.has(code);
      const broken = CONNECTION_BROKEN.has(code) || /socket hang up/.test(error.message);
      if ((connectFailed || broken) && exchange.attempt === 1 && IDEMPOTENT.has(exchange.req.method) && !exchange.res.headersSent) {
        metrics.upstreamRetries.inc({ upstream: upstream.name });
        logger.debug({ err: error, upstream: upstream.name, request_id: exchange.req.id }, 'upstream connection failed, retrying once');
        send(exchange);
        return;
      }
      logger.warn(
        { err: error, upstream: upstream.name, request_id: exchange.req.id, attempt: exchange.attempt },
        'upstream request failed',
      );
      fail(exchange, connectFailed ? upstreamUnavailable(upstream.name) : upstreamError(upstream.name));
    });
    proxyServer.on('econnreset', (_error, req) => {
      // The client went away; http-proxy aborts the upstream request.
      const exchange = exchanges.get(req as IncomingMessage);
      if (exchange && !exchange.done) finish(exchange, 'release');
    });
  };

  const proxy = createProxyMiddleware<Request, Response>({
    target: upstream.url,
    changeOrigin: true,
    agent: deps.agent,
    xfwd: false,
    ejectPlugins: true,
    plugins: [events],
  });

  const send = (exchange: Exchange) => {
    exchange.attempt += 1;
    exchange.proxyReq = undefined;
    exchange.startedAt = process.hrtime.bigint();
    exchange.timer = setTimeout(() => {
      if (exchange.done) return;
      logger.warn({ upstream: upstream.name, request_id: exchange.req.id, timeout_ms: upstream.timeoutMs }, 'upstream timed out');
      fail(exchange, upstreamTimeout(upstream.name, upstream.timeoutMs));
      exchange.proxyReq?.destroy();
    }, upstream.timeoutMs);
    exchange.timer.unref();
    void proxy(exchange.req, exchange.res, (error?: unknown) => {
      if (!exchange.done) fail(exchange, error instanceof AppError ? error : upstreamError(upstream.name));
    });
  };

  return (req, res) => {
    const permit = breaker?.acquire();
    if (breaker && !permit) {
      metrics.breakerRejections.inc({ upstream: upstream.name });
      sendError(req, res, upstreamUnavailable(upstream.name, breaker.retryAfterSeconds()));
      return;
    }
    const exchange: Exchange = {
      req,
      res,
      permit,
      body: res.locals.bufferedBody as Buffer | undefined,
      attempt: 0,
      startedAt: process.hrtime.bigint(),
      timer: undefined,
      proxyReq: undefined,
      done: false,
    };
    exchanges.set(req, exchange);
    res.once('close', () => {
      if (exchange.done) return;
      // The client left before the upstream answered.
      finish(exchange, 'release');
      exchange.proxyReq?.destroy();
    });
    send(exchange);
  };
};
