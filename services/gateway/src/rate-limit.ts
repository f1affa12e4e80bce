import { dependencyUnavailable, sendError, tooManyRequests, type KeyValueStore, type Logger } from '@galion/kit';
import { rateLimit, ipKeyGenerator, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RedisStore as RedisRateLimitStore, type RedisReply } from 'rate-limit-redis';
import type { RateLimitConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';

/** Anonymous traffic per client IP, authenticated traffic per user, and the stricter auth routes per IP. */
export type RateLimitPolicy = 'ip' | 'user' | 'auth';

/** Where counters live: Redis (shared by every replica), or a key-value store given in-process. */
export type CounterBackend = { kind: 'redis'; redis: Redis; prefix: string } | { kind: 'store'; store: KeyValueStore };

/** express-rate-limit counters on a kit key-value store (the all-in-one mode's in-process store). */
export class KeyValueRateLimitStore implements Store {
  private windowMs = 60_000;
  readonly localKeys = false;

  constructor(
    private readonly kv: KeyValueStore,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const totalHits = await this.kv.increment(this.prefix + key, this.windowMs);
    const ttlMs = await this.kv.ttlMs(this.prefix + key);
    return { totalHits, resetTime: new Date(Date.now() + (ttlMs > 0 ? ttlMs : this.windowMs)) };
  }

  async decrement(): Promise<void> {
    // Only used by skip(Failed|Successful)Requests, which the gateway does not use.
  }

  async resetKey(key: string): Promise<void> {
    await this.kv.delete(this.prefix + key);
  }
}

/**
 * Counts every store failure and turns it into a 503 the error handler understands. With fail
 * open, express-rate-limit lets the request through (`passOnStoreError`). A failed script load
 * (Redis down at the wrong moment) is retried on the next call.
 */
class GuardedStore implements Store {
  private options: Options | undefined;
  private needsInit = false;
  private lastWarning = 0;

  constructor(
    private readonly inner: Store,
    private readonly policy: RateLimitPolicy,
    private readonly onError: () => void,
    private readonly logger: Logger,
  ) {}

  get prefix() {
    return this.inner.prefix;
  }

  get localKeys() {
    return this.inner.localKeys;
  }

  async init(options: Options): Promise<void> {
    this.options = options;
    try {
      await this.inner.init?.(options);
    } catch (error) {
      this.needsInit = true;
      this.fail(error);
    }
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      if (this.needsInit && this.options) {
        await this.inner.init?.(this.options);
        this.needsInit = false;
      }
      return await this.inner.increment(key);
    } catch (error) {
      if (!/NOSCRIPT/.test(String(error))) this.needsInit = true;
      throw this.fail(error);
    }
  }

  decrement(key: string) {
    return this.inner.decrement(key);
  }

  resetKey(key: string) {
    return this.inner.resetKey(key);
  }

  private fail(error: unknown) {
    this.onError();
    if (Date.now() - this.lastWarning > 10_000) {
      this.lastWarning = Date.now();
      this.logger.warn({ err: error, policy: this.policy }, 'rate-limit store unavailable');
    }
    return dependencyUnavailable('rate-limit store', error);
  }
}

const makeStore = (backend: CounterBackend, policy: RateLimitPolicy): Store => {
  if (backend.kind === 'store') return new KeyValueRateLimitStore(backend.store, `ratelimit:${policy}:`);
  const { redis } = backend;
  return new RedisRateLimitStore({
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    prefix: `${backend.prefix}ratelimit:${policy}:`,
  });
};

export interface RateLimiters {
  ip: RequestHandler;
  user: RequestHandler;
  auth: RequestHandler;
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** The three limiters of the gateway; each answers 429 in the platform's error format. */
export const createRateLimiters = (
  config: RateLimitConfig,
  backend: CounterBackend,
  deps: { metrics: GatewayMetrics; logger: Logger },
): RateLimiters => {
  if (!config.enabled) return { ip: passThrough, user: passThrough, auth: passThrough };
  const { metrics, logger } = deps;
  const clientIp = (req: Request) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');
  const limiter = (policy: RateLimitPolicy, limit: number, windowMs: number, key: (req: Request, res: Response) => string) =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: config.headers,
      legacyHeaders: false,
      identifier: policy,
      keyGenerator: key,
      passOnStoreError: config.failOpen,
      store: new GuardedStore(makeStore(backend, policy), policy, () => metrics.rateLimitStoreErrors.inc(), logger),
      // Store errors are logged (throttled) by GuardedStore; the rest goes to the service log.
      logger: {
        warn: (error: unknown, message?: string) => logger.warn({ err: error }, message ?? 'rate limiter warning'),
        error: (error: unknown, message?: string) =>
          /error from store/.test(message ?? '')
            ? logger.debug({ err: error }, message)
            : logger.error({ err: error }, message ?? 'rate limiter error'),
      },
      handler: (req, res) => {
        metrics.rateLimited.inc({ policy });
        const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const seconds = resetTime ? (resetTime.getTime() - Date.now()) / 1000 : windowMs / 1000;
        sendError(req, res, tooManyRequests(seconds, 'Too many requests. Slow down and try again after the time in Retry-After.'));
      },
    });
  return {
    ip: limiter('ip', config.perIp, config.windowMs, clientIp),
    auth: limiter('auth', config.authPerIp, config.authWindowMs, clientIp),
    user: limiter('user', config.perUser, config.windowMs, (req, res) => {
      const sub = (res.locals.auth as { sub?: string } | undefined)?.sub;
      return sub ? `u:${sub}` : `ip:${clientIp(req)}`;
    }),
  };
};
