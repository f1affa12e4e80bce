import { Redis } from 'ioredis';
import { registerDependencyErrors } from './error-mapping.js';
import type { Health } from './health.js';
import type { Logger } from './logger.js';

// ioredis's ways of saying Redis cannot be reached: a 503, not a 500.
registerDependencyErrors({ names: ['MaxRetriesPerRequestError'], messages: /Connection is closed|Stream isn't writeable/ });

/**
 * A small key-value store for short-lived shared state (rate limits, denylists, caches).
 * Redis in every real deployment, so replicas agree; in memory for the all-in-one mode.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** The values of several keys in one round trip, in the order asked (null where missing). */
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(...keys: string[]): Promise<void>;
  /** Adds `by` (one by default) and returns the new count; the first increment starts the key's time to live. */
  increment(key: string, ttlMs: number, by?: number): Promise<number>;
  /** `increment` and then `ttlMs` of the same key, in one round trip: a window's count and the time left in it. */
  incrementInWindow(key: string, windowMs: number, by: number): Promise<WindowCount>;
  /** Milliseconds left before the key expires; 0 when it does not exist or has no expiry. */
  ttlMs(key: string): Promise<number>;
  /** `ttlMs` of several keys in one round trip, in the order asked. */
  ttlsMs(keys: string[]): Promise<number[]>;
  /**
   * Tells whoever listens on `channel` (Redis pub/sub, under the key prefix), for processes that
   * mirror state kept here. An in-process store has no one else to tell: it does nothing.
   */
  publish(channel: string, message: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface WindowCount {
  count: number;
  /** Milliseconds left in the window (the key's time to live). */
  ttlMs: number;
}

export class RedisStore implements KeyValueStore {
  constructor(
    readonly redis: Redis,
    /** Put before every key, so several users of one Redis keep apart (e.g. `galion:`). */
    readonly prefix = '',
  ) {}

  private k(key: string): string {
    return this.prefix + key;
  }

  async get(key: string) {
    return this.redis.get(this.k(key));
  }

  async getMany(keys: string[]) {
    return keys.length === 0 ? [] : this.redis.mget(keys.map((key) => this.k(key)));
  }

  async set(key: string, value: string, ttlMs?: number) {
    if (ttlMs !== undefined) await this.redis.set(this.k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    else await this.redis.set(this.k(key), value);
  }

  async delete(...keys: string[]) {
    if (keys.length > 0) await this.redis.del(...keys.map((key) => this.k(key)));
  }

  async increment(key: string, ttlMs: number, by = 1) {
    const results = await this.redis
      .multi()
      .incrby(this.k(key), by)
      .pexpire(this.k(key), Math.max(1, Math.ceil(ttlMs)), 'NX')
      .exec();
    const [error, count] = results?.[0] ?? [new Error('empty Redis reply'), 0];
    if (error) throw error;
    return Number(count);
  }

  async incrementInWindow(key: string, windowMs: number, by: number) {
    const results = await this.redis
      .multi()
      .incrby(this.k(key), by)
      .pexpire(this.k(key), Math.max(1, Math.ceil(windowMs)), 'NX')
      .pttl(this.k(key))
      .exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (!results || failed) throw failed ?? new Error('empty Redis reply');
    return { count: Number(results[0]![1]), ttlMs: Math.max(0, Number(results[2]![1])) };
  }

  async ttlMs(key: string) {
    return Math.max(0, await this.redis.pttl(this.k(key)));
  }

  async ttlsMs(keys: string[]) {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.pttl(this.k(key));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (!results || failed) throw failed ?? new Error('empty Redis reply');
    return results.map(([, ttl]) => Math.max(0, Number(ttl)));
  }

  async publish(channel: string, message: string) {
    await this.redis.publish(this.k(channel), message);
  }

  async ping() {
    await this.redis.ping();
  }

  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export class MemoryStore implements KeyValueStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number | undefined }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private live(key: string) {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep() {
    for (const key of this.entries.keys()) this.live(key);
  }

  async get(key: string) {
    return this.live(key)?.value ?? null;
  }

  async getMany(keys: string[]) {
    return keys.map((key) => this.live(key)?.value ?? null);
  }

  async set(key: string, value: string, ttlMs?: number) {
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.now() + ttlMs });
  }

  async delete(...keys: string[]) {
    for (const key of keys) this.entries.delete(key);
  }

  async increment(key: string, ttlMs: number, by = 1) {
    const entry = this.live(key);
    const count = (entry ? Number(entry.value) : 0) + by;
    this.entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? this.now() + ttlMs });
    return count;
  }

  async incrementInWindow(key: string, windowMs: number, by: number) {
    const count = await this.increment(key, windowMs, by);
    return { count, ttlMs: await this.ttlMs(key) };
  }

  async ttlMs(key: string) {
    const expiresAt = this.live(key)?.expiresAt;
    return expiresAt === undefined ? 0 : Math.max(0, expiresAt - this.now());
  }

  async ttlsMs(keys: string[]) {
    return Promise.all(keys.map((key) => this.ttlMs(key)));
  }

  async publish() {}

  async ping() {}

  async close() {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}

/**
 * A Redis client that fails fast while Redis is down (no offline queue), so callers answer 503
 * at once instead of hanging, and reconnects by itself when Redis comes back.
 */
export const createRedis = (url: string, options: { autoPipelining?: boolean } = {}): Redis => {
  const redis = new Redis(url, {
    // Commands issued in one event-loop turn go out in one write: fewer syscalls on hot paths.
    enableAutoPipelining: options.autoPipelining ?? false,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  redis.on('error', () => {
    // Errors surface on the commands that fail; the client reconnects by itself.
  });
  return redis;
};

/** Waits until a fresh client is connected, so a service does not start before Redis answers. */
export const waitForRedis = (redis: Redis, timeoutMs = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    if (redis.status === 'ready') {
      resolve();
      return;
    }
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** What a service composition collects to close at shutdown. */
export type Closers = { name: string; close: () => Promise<unknown> }[];

/**
 * The store a service uses for shared short-lived state: the injected one (all-in-one), Redis
 * when configured (checked by readiness), or an in-process one with a warning.
 */
export const connectStore = async (options: {
  injected?: KeyValueStore;
  redisUrl?: string;
  logger: Logger;
  health: Health;
  closers: Closers;
  /** Make Redis a readiness check (default); false for a service that keeps working without it. */
  checkReadiness?: boolean;
  /** See `createRedis`. */
  autoPipelining?: boolean;
}): Promise<KeyValueStore> => {
  if (options.injected) return options.injected;
  if (options.redisUrl) {
    const redis = createRedis(options.redisUrl, { autoPipelining: options.autoPipelining });
    await waitForRedis(redis);
    const store = new RedisStore(redis, 'galion:');
    options.closers.push({ name: 'redis', close: () => store.close() });
    if (options.checkReadiness !== false) options.health.addCheck('redis', () => store.ping());
    return store;
  }
  options.logger.warn('REDIS_URL is not set: limits, revocations and caches are kept in this process only');
  const store = new MemoryStore();
  options.closers.push({ name: 'memory store', close: () => store.close() });
  return store;
};
