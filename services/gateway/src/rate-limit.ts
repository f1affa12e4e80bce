import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { dependencyUnavailable, sendError, tooManyRequests, type KeyValueStore, type Logger } from '@galion/kit';
import type { Request, RequestHandler, Response } from 'express';
import type { RateLimitConfig } from './config.js';
import { LeasedCounter, type Verdict } from './leased-counter.js';
import type { GatewayMetrics } from './metrics.js';

/** Anonymous traffic per client IP, authenticated traffic per user, and the stricter auth routes per IP. */
export type RateLimitPolicy = 'ip' | 'user' | 'auth';

export interface RateLimiters {
  ip: RequestHandler;
  user: RequestHandler;
  auth: RequestHandler;
  /** Gives back unused quota and stops the sweeper. */
  close(): Promise<void>;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail as the last two), or undefined. */
const ipv6Groups = (address: string): number[] | undefined => {
  let text = address.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
};

/**
 * The rate-limit key of a client address: an IPv4 address as it is (also when written as an
 * IPv4-mapped or IPv4-compatible IPv6 one), an IPv6 address by its /56 network, since one
 * subscriber is usually given a /56 or more and could otherwise take a fresh address per request.
 */
export const clientAddressKey = (ip: string): string => {
  if (!isIPv6(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  const embedsIpv4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || (g5 === 0 && ip.includes('.')));
  if (embedsIpv4) return `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  return `${[g0, g1, g2, g3 & 0xff00].map((group) => group.toString(16)).join(':')}::/56`;
};

/** The draft-8 partition key of a counter key: what the client may compare, not the key itself. */
const partitionKey = (key: string) => Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');

const passThrough: RequestHandler = (_req, _res, next) => next();

/**
 * The gateway's three limiters, counted with leases of the shared count (leased-counter.ts): the
 * store is asked once per lease, not once per request. Each sets the `RateLimit` and
 * `RateLimit-Policy` headers of the configured IETF draft and answers 429 in the platform's
 * error format. A store that cannot be reached lets the request through unlimited with
 * RATE_LIMIT_FAIL_OPEN, or answers 503; either way it is counted and logged (at most every 10 s).
 */
export const createRateLimiters = (
  config: RateLimitConfig,
  store: KeyValueStore,
  deps: { metrics: GatewayMetrics; logger: Logger },
): RateLimiters => {
  if (!config.enabled) return { ip: passThrough, user: passThrough, auth: passThrough, close: async () => undefined };
  const { metrics, logger } = deps;
  let lastWarning = 0;
  const storeFailed = (error: unknown, policy: RateLimitPolicy) => {
    metrics.rateLimitStoreErrors.inc();
    if (Date.now() - lastWarning > 10_000) {
      lastWarning = Date.now();
      logger.warn({ err: error, policy }, 'rate-limit store unavailable');
    }
  };
  const partitionKeys = new Map<string, string>();
  const partitionKeyOf = (key: string) => {
    let value = partitionKeys.get(key);
    if (value === undefined) {
      // Bounded: cleared whole when large, as the counters' own keys turn over every window.
      if (partitionKeys.size >= 10_000) partitionKeys.clear();
      partitionKeys.set(key, (value = partitionKey(key)));
    }
    return value;
  };

  const counters: LeasedCounter[] = [];
  const limiter = (policy: RateLimitPolicy, limit: number, windowMs: number, keyOf: (req: Request, res: Response) => string): RequestHandler => {
    const counter = new LeasedCounter(store, { limit, windowMs, prefix: `ratelimit:${policy}:` });
    counters.push(counter);
    const windowSeconds = Math.ceil(windowMs / 1000);
    const policyHeader = config.headers === 'draft-7' ? `${limit};w=${windowSeconds}` : undefined;
    const apply = (req: Request, res: Response, next: (error?: unknown) => void, key: string, verdict: Verdict) => {
      const resetSeconds = Math.max(0, Math.ceil(verdict.resetMs / 1000));
      if (!res.headersSent) {
        if (policyHeader) {
          res.setHeader('RateLimit-Policy', policyHeader);
          res.setHeader('RateLimit', `limit=${limit}, remaining=${verdict.remaining}, reset=${resetSeconds}`);
        } else {
          res.setHeader('RateLimit-Policy', `"${policy}"; q=${limit}; w=${windowSeconds}; pk=:${partitionKeyOf(key)}:`);
          res.setHeader('RateLimit', `"${policy}"; r=${verdict.remaining}; t=${resetSeconds}`);
        }
      }
      if (verdict.allowed) return next();
      metrics.rateLimited.inc({ policy });
      sendError(req, res, tooManyRequests(resetSeconds, 'Too many requests. Slow down and try again after the time in Retry-After.'));
    };
    const failed = (next: (error?: unknown) => void, error: unknown) => {
      storeFailed(error, policy);
      next(config.failOpen ? undefined : dependencyUnavailable('rate-limit store', error));
    };
    return (req, res, next) => {
      const key = keyOf(req, res);
      let verdict: Verdict | Promise<Verdict>;
      try {
        verdict = counter.take(key);
      } catch (error) {
        return failed(next, error);
      }
      // Settles once next() has been called (the gateway's admission waits for it beside the revocation check).
      if (verdict instanceof Promise) return verdict.then((known) => apply(req, res, next, key, known), (error: unknown) => failed(next, error));
      apply(req, res, next, key, verdict);
    };
  };

  const clientIp = (req: Request) => clientAddressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
  const limiters = {
    ip: limiter('ip', config.perIp, config.windowMs, clientIp),
    auth: limiter('auth', config.authPerIp, config.authWindowMs, clientIp),
    user: limiter('user', config.perUser, config.windowMs, (req, res) => {
      const sub = (res.locals.auth as { sub?: string } | undefined)?.sub;
      return sub ? `u:${sub}` : `ip:${clientIp(req)}`;
    }),
  };
  const sweepAll = (returnAll = false) => Promise.all(counters.map((counter) => counter.sweep(returnAll).catch(() => undefined)));
  const sweeper = setInterval(() => void sweepAll(), 1_000);
  sweeper.unref();
  return {
    ...limiters,
    close: async () => {
      clearInterval(sweeper);
      await sweepAll(true);
    },
  };
};
