import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppError, sendError, type Logger } from '@galion/kit';
import type { Request, RequestHandler, Response } from 'express';
import type { CircuitBreaker, Permit } from './breaker.js';
import { payloadTooLarge, streamedBodyLimitOf } from './body.js';
import { connectionOptions } from './headers.js';
import type { UpstreamConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';

/** Methods whose repetition has the effect of one call (RFC 9110 §9.2.2): a retry is safe. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The connection broke before a response (e.g. a keep-alive socket the upstream had just closed). */
const CONNECTION_BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** Response headers about the upstream connection, not the response (RFC 9110 §7.6.1). */
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer']);

/** Responses up to this size with a declared length are read whole, then sent at once. */
const SMALL_BODY_BYTES = 64 * 1024;

export const upstreamUnavailable = (upstream: string, retryAfterSeconds = 5) =>
  new AppError(503, 'upstream_unavailable', `The ${upstream} service is unavailable. Try again shortly.`, {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

const upstreamOverloaded = (upstream: string) =>
  new AppError(503, 'upstream_overloaded', `The ${upstream} service is at capacity. Try again in a moment.`, {
    headers: { 'Retry-After': '1' },
  });

const upstreamTimeout = (upstream: string, ms: number) =>
  new AppError(504, 'upstream_timeout', `The ${upstream} service did not answer within ${ms} ms.`);

const connectTimedOut = (upstream: string, ms: number) =>
  Object.assign(new Error(`the connection to ${upstream} did not open within ${ms} ms`), { code: 'ETIMEDOUT' });

const upstreamError = (upstream: string) =>
  new AppError(502, 'upstream_error', `The connection to the ${upstream} service broke before it answered.`);

type Outcome = 'success' | 'failure' | 'release';

/** The life of one client request through the proxy: one or two attempts, one outcome. */
interface Exchange {
  req: Request;
  res: Response;
  permit: Permit | undefined;
  /** The request body, read ahead so that a retry can send it again. */
  body: Buffer | undefined;
  headers: OutgoingHttpHeaders;
  /** The path and query sent upstream: the client's, after the upstream URL's own path if it has one. */
  path: string;
  attempt: number;
  /** This attempt's connection is open (a pooled one, or a new one that has connected): from then on the request may have reached the upstream. */
  connected: boolean;
  startedAt: bigint;
  timer: NodeJS.Timeout | undefined;
  upstreamReq: ClientRequest | undefined;
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
 * The upstream's response headers for the client: its own, minus those about its connection.
 * Those the gateway already set to the same value (the security headers every Galion service
 * sends, the request id) are left out rather than set twice.
 */
const responseHeaders = (headers: IncomingHttpHeaders, res: Response): OutgoingHttpHeaders => {
  const named = connectionOptions(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (HOP_BY_HOP_RESPONSE.has(name) || named.includes(name) || res.getHeader(name) === value) continue;
    out[name] = value;
  }
  return out;
};

/** Characters a reason phrase may not hold (RFC 9112 §4): such a phrase is dropped, the status kept. */
const UNSAFE_REASON = /[^\t\x20-\x7e\x80-\xff]/;

/** The request target in origin form: an absolute-form target (`GET http://host/path`) loses its scheme and host. */
const originForm = (target: string): string => {
  if (target.startsWith('/')) return target;
  const url = new URL(target, 'http://gateway.invalid');
  return `${url.pathname}${url.search}`;
};

/**
 * The proxy to one upstream: Node's HTTP client over a keep-alive agent, path unchanged, bodies
 * streamed both ways, with time limits for the connection and the response headers, and the
 * circuit breaker's verdict on every outcome. One retry, on a new connection: of any request whose
 * connection never opened (nothing was sent), and of an idempotent one whose connection broke.
 * The request headers were already rewritten for the upstream (headers.ts); only Host changes
 * here, to the upstream's (the client's host travels in X-Forwarded-Host).
 */
export const createUpstreamProxy = (deps: UpstreamProxyDeps): RequestHandler => {
  const { upstream, breaker, metrics, logger, agent } = deps;
  const target = new URL(upstream.url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  // An upstream behind a path (say, an ingress at http://ingress/users) gets it in front of every request.
  const basePath = target.pathname.replace(/\/+$/, '');
  const upstreamLabel = { upstream: upstream.name };
  const { maxInFlight } = upstream;
  // Requests sent to this upstream and not yet over: past the bound, the next is turned away at
  // once rather than queued on the upstream's sockets behind requests it is already slow to answer.
  let inFlight = 0;
  // Shown as 0 from the start, so a dashboard (and the metrics contract's live check) sees the series.
  metrics.upstreamShed.inc(upstreamLabel, 0);

  const observe = (exchange: Exchange, status: number) => {
    const seconds = Number(process.hrtime.bigint() - exchange.startedAt) / 1e9;
    metrics.upstreamDuration.observe({ upstream: upstream.name, status_code: String(status) }, seconds);
  };

  /** Tells the breaker how the call went, once. */
  const settle = (exchange: Exchange, outcome: Outcome) => {
    exchange.permit?.[outcome]();
    exchange.permit = undefined;
  };

  /** The exchange has its outcome; `undefined` leaves the breaker's verdict for later (a 503 whose body says why). */
  const finish = (exchange: Exchange, outcome: Outcome | undefined) => {
    exchange.done = true;
    clearTimeout(exchange.timer);
    if (outcome) settle(exchange, outcome);
  };

  const fail = (exchange: Exchange, error: AppError) => {
    const { req, res } = exchange;
    observe(exchange, error.status);
    finish(exchange, 'failure');
    if (res.headersSent) res.destroy();
    else sendError(req, res, error);
  };

  const onUpstreamError = (exchange: Exchange, error: NodeJS.ErrnoException) => {
    if (exchange.done) return;
    clearTimeout(exchange.timer);
    const connectFailed = !exchange.connected;
    const broken = CONNECTION_BROKEN.has(error.code ?? '') || /socket hang up/.test(error.message);
    // A body streams only once the connection is open (startBody), so a request whose connection
    // never opened still has all of it to send.
    const retryable = connectFailed || (broken && IDEMPOTENT.has(exchange.req.method));
    if (retryable && exchange.attempt === 1 && !exchange.res.headersSent) {
      metrics.upstreamRetries.inc(upstreamLabel);
      logger.debug({ err: error, upstream: upstream.name, request_id: exchange.req.id }, 'upstream connection failed, retrying once');
      send(exchange);
      return;
    }
    logger.warn({ err: error, upstream: upstream.name, request_id: exchange.req.id, attempt: exchange.attempt }, 'upstream request failed');
    fail(exchange, connectFailed ? upstreamUnavailable(upstream.name) : upstreamError(upstream.name));
  };

  const onUpstreamResponse = (exchange: Exchange, upstreamRes: IncomingMessage) => {
    if (exchange.done) {
      upstreamRes.resume();
      return;
    }
    const status = upstreamRes.statusCode ?? 0;
    if (status < 100 || status > 999) {
      // Node's parser lets such a status through; answering with it would throw.
      upstreamRes.resume();
      exchange.upstreamReq?.destroy();
      logger.warn({ upstream: upstream.name, request_id: exchange.req.id, status }, 'upstream answered an invalid status');
      fail(exchange, upstreamError(upstream.name));
      return;
    }
    observe(exchange, status);
    const length = Number(upstreamRes.headers['content-length']);
    const small = length <= SMALL_BODY_BYTES && upstreamRes.headers['transfer-encoding'] === undefined;
    // A 503 may be the upstream shedding load on purpose (`overloaded`: auth's hashing queue is
    // full, a process is at MAX_IN_FLIGHT_REQUESTS). That is the upstream healthy and asking for
    // time; held against it, a burst of logins would open auth's breaker and turn away every
    // other auth request too. Its body says which 503 it is.
    const judgedByBody = status === 503 && small;
    finish(exchange, judgedByBody ? undefined : status >= 500 ? 'failure' : 'success');
    const { res } = exchange;
    const reason = upstreamRes.statusMessage && !UNSAFE_REASON.test(upstreamRes.statusMessage) ? upstreamRes.statusMessage : undefined;
    res.writeHead(status, reason, responseHeaders(upstreamRes.headers, res));
    // A response cut short upstream must reach the client as a broken response, not a complete one.
    upstreamRes.once('error', () => res.destroy());
    upstreamRes.once('aborted', () => res.destroy());
    if (small) {
      // Most answers are small JSON with a known length: sent whole, headers and body in one write.
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.once('end', () => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (judgedByBody) settle(exchange, isShedding(body) ? 'release' : 'failure');
        res.end(body);
      });
    } else {
      upstreamRes.pipe(res);
    }
  };

  const send = (exchange: Exchange) => {
    const { req } = exchange;
    exchange.attempt += 1;
    exchange.connected = false;
    exchange.startedAt = process.hrtime.bigint();
    exchange.timer = setTimeout(() => {
      if (exchange.done) return;
      logger.warn({ upstream: upstream.name, request_id: req.id, timeout_ms: upstream.timeoutMs }, 'upstream timed out');
      fail(exchange, upstreamTimeout(upstream.name, upstream.timeoutMs));
      exchange.upstreamReq?.destroy();
    }, upstream.timeoutMs);
    exchange.timer.unref();
    // The retry goes on a connection of its own, never a pooled one: when an upstream pod shuts
    // down, every idle socket to it breaks at once, and a second pooled socket is as stale as the first.
    const upstreamReq = request({
      agent: exchange.attempt > 1 ? false : agent,
      hostname,
      port,
      method: req.method,
      path: exchange.path,
      headers: exchange.headers,
    });
    exchange.upstreamReq = upstreamReq;
    upstreamReq.on('response', (upstreamRes) => onUpstreamResponse(exchange, upstreamRes));
    upstreamReq.on('error', (error) => onUpstreamError(exchange, error));
    upstreamReq.once('socket', (socket) => {
      const opened = () => {
        exchange.connected = true;
        startBody(exchange, upstreamReq);
      };
      if (!socket.connecting) {
        opened();
        return;
      }
      // A connection that does not open (a SYN to a pod that is gone, unanswered) would otherwise
      // hold the request until the response timeout; nothing was sent, so it can go elsewhere.
      const connectTimer = setTimeout(() => socket.destroy(connectTimedOut(upstream.name, upstream.connectTimeoutMs)), upstream.connectTimeoutMs);
      connectTimer.unref();
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        opened();
      });
      socket.once('close', () => clearTimeout(connectTimer));
    });
  };

  const startBody = (exchange: Exchange, upstreamReq: ClientRequest) => {
    const { req } = exchange;
    if (exchange.body) upstreamReq.end(exchange.body);
    else if (req.readableEnded || !hasBody(req)) upstreamReq.end();
    else streamBody(exchange, upstreamReq);
  };

  /**
   * Streams the client's body upstream. The time limit counts from the last byte sent, not from
   * the start: a large upload on a slow link is not cut while it is still arriving (the server
   * bounds a request's whole receipt: HTTP_REQUEST_TIMEOUT_MS). A chunked body is counted on its
   * way: past its limit the client gets 413 and the upstream request is cut.
   */
  const streamBody = (exchange: Exchange, upstreamReq: ClientRequest) => {
    const { req, res } = exchange;
    const limit = streamedBodyLimitOf(res);
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      exchange.timer?.refresh();
      received += chunk.length;
      if (limit && received > limit.bytes && !exchange.done) {
        // The client's doing, not the upstream's: no outcome for the breaker. The rest of the body
        // is still read (this listener keeps it flowing), so the client gets the answer.
        finish(exchange, 'release');
        req.unpipe(upstreamReq);
        upstreamReq.destroy();
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.set('Connection', 'close');
        sendError(req, res, payloadTooLarge(limit.label));
      }
    });
    req.pipe(upstreamReq);
  };

  return (req, res) => {
    // The client left while it was being admitted: there is nothing to forward, and no outcome to
    // hold against the upstream.
    if (res.destroyed || req.readableAborted) return;
    // Before the breaker, so a request turned away here does not spend a half-open probe.
    if (maxInFlight > 0 && inFlight >= maxInFlight) {
      metrics.upstreamShed.inc(upstreamLabel);
      sendError(req, res, upstreamOverloaded(upstream.name));
      return;
    }
    const permit = breaker?.acquire();
    if (breaker && !permit) {
      metrics.breakerRejections.inc(upstreamLabel);
      sendError(req, res, upstreamUnavailable(upstream.name, breaker.retryAfterSeconds()));
      return;
    }
    const exchange: Exchange = {
      req,
      res,
      permit,
      body: res.locals.bufferedBody as Buffer | undefined,
      headers: { ...req.headers, host: target.host },
      path: basePath + originForm(req.originalUrl),
      attempt: 0,
      connected: false,
      startedAt: process.hrtime.bigint(),
      timer: undefined,
      upstreamReq: undefined,
      done: false,
    };
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      // The client left: before the upstream answered (nothing to judge it by), or mid-response.
      if (!exchange.done) finish(exchange, 'release');
      else settle(exchange, 'release');
      if (!res.writableFinished) exchange.upstreamReq?.destroy();
    });
    send(exchange);
  };
};

/** Is this 503's body the error format's `overloaded` (kit's load shedding, auth's hashing queue)? */
const isShedding = (body: Buffer): boolean => {
  try {
    return (JSON.parse(body.toString('utf8')) as { error?: unknown }).error === 'overloaded';
  } catch {
    return false;
  }
};

/** Does the request carry a body to stream (a length over zero, or chunks)? */
const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
