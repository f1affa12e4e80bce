import type { Logger, RedisStore } from '@galion/kit';
import { DENYLIST_CHANNEL, StoreDenylist, type Denylist, type Revocation } from './denylist.js';

export interface DenylistMirrorOptions {
  logger: Logger;
  /** Past this many live entries the mirror lets go of them and asks Redis per request. */
  maxEntries?: number;
  now?: () => number;
}

/** What the mirror holds, for metrics and logs. */
export interface DenylistMirrorStatus {
  /** Lookups are answered from memory (subscribed and loaded); otherwise they go to Redis. */
  live: boolean;
  entries: number;
}

const DEFAULT_MAX_ENTRIES = 500_000;
const SWEEP_MS = 30_000;
const RESYNC_MS = 1_000;

/**
 * The denylist held in this process's memory, kept current by the revocations announced on
 * DENYLIST_CHANNEL: a look-up costs a map read instead of a Redis round trip on every request.
 *
 * It is live only while its subscription is open and everything stored before it was loaded (a
 * SCAN of the denylist keys after subscribing, so nothing falls between the two). Before that,
 * after the subscription breaks (a revocation announced meanwhile would be missed) and while it
 * reloads on reconnecting, every look-up goes to Redis as before. Entries only ever get added and
 * expire with the tokens they refuse, so a message and the load may arrive in any order.
 */
export class DenylistMirror implements Denylist {
  private readonly tokens = new Map<string, number>();
  private readonly users = new Map<string, { at: number; expiresAt: number }>();
  private readonly direct: StoreDenylist;
  private readonly subscriber: RedisStore['redis'];
  private readonly channel: string;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private live = false;
  private overflowed = false;
  private closed = false;
  /** Counts subscriptions, so a load finishing after its connection broke is not taken as current. */
  private generation = 0;
  private resync: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RedisStore,
    private readonly options: DenylistMirrorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.direct = new StoreDenylist(store, this.now);
    this.channel = store.prefix + DENYLIST_CHANNEL;
    this.subscriber = store.redis.duplicate({ lazyConnect: true, autoResubscribe: false, enableAutoPipelining: false });
    this.subscriber.on('error', () => {
      // The client reconnects by itself; until it has, look-ups go to Redis (and fail open there).
    });
    this.subscriber.on('ready', () => void this.sync());
    this.subscriber.on('close', () => this.lose());
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.apply(message);
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Connects the subscription; look-ups go to Redis until it is loaded. Never throws: the client retries. */
  start(): void {
    this.subscriber.connect().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lose();
    clearInterval(this.sweeper);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  status(): DenylistMirrorStatus {
    return { live: this.live, entries: this.tokens.size + this.users.size };
  }

  async revocation(jti: string, userId: string): Promise<Revocation> {
    if (!this.live) return this.direct.revocation(jti, userId);
    const now = this.now();
    const tokenExpiresAt = this.tokens.get(jti);
    const user = this.users.get(userId);
    return {
      tokenRevoked: tokenExpiresAt !== undefined && tokenExpiresAt > now,
      userRevokedAt: user && user.expiresAt > now ? user.at : undefined,
    };
  }

  async userRevokedAt(userId: string): Promise<number | undefined> {
    if (!this.live) return this.direct.userRevokedAt(userId);
    const user = this.users.get(userId);
    return user && user.expiresAt > this.now() ? user.at : undefined;
  }

  async revokeToken(jti: string, expiresAtSeconds: number): Promise<void> {
    await this.direct.revokeToken(jti, expiresAtSeconds);
    this.addToken(jti, expiresAtSeconds * 1000);
  }

  async revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void> {
    await this.direct.revokeUser(userId, atSeconds, ttlSeconds);
    this.addUser(userId, atSeconds, this.now() + ttlSeconds * 1000);
  }

  private async sync(): Promise<void> {
    const generation = ++this.generation;
    this.live = false;
    clearTimeout(this.resync);
    this.overflowed = false;
    try {
      await this.subscriber.subscribe(this.channel);
      const loaded = await this.load();
      if (generation !== this.generation || this.closed) return;
      if (loaded > this.maxEntries) {
        this.overflow();
        return;
      }
      this.live = true;
      this.options.logger.info({ entries: this.status().entries }, 'denylist mirror loaded; revocations are checked in memory');
    } catch (error) {
      if (generation !== this.generation || this.closed) return;
      this.options.logger.warn({ err: error }, 'denylist mirror could not load; checking revocations in Redis meanwhile');
      this.resync = setTimeout(() => {
        if (this.subscriber.status === 'ready') void this.sync();
      }, RESYNC_MS);
      this.resync.unref();
    }
  }

  /** Reads every denylist entry in Redis (SCAN, then their values and times to live); returns how many. */
  private async load(): Promise<number> {
    const redis = this.store.redis;
    const prefix = `${this.store.prefix}denylist:`;
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      count += keys.length;
      if (count > this.maxEntries) return count;
      if (keys.length === 0) continue;
      const replies = (await redis.pipeline(keys.flatMap((key) => [['get', key], ['pttl', key]])).exec()) ?? [];
      const now = this.now();
      keys.forEach((key, index) => {
        const value = replies[index * 2]?.[1] as string | null | undefined;
        const ttlMs = Number(replies[index * 2 + 1]?.[1]);
        if (value == null || !(ttlMs > 0)) return;
        const entry = key.slice(prefix.length);
        if (entry.startsWith('jti:')) this.addToken(entry.slice(4), now + ttlMs);
        else if (entry.startsWith('user:')) this.addUser(entry.slice(5), Number(value), now + ttlMs);
      });
    } while (cursor !== '0');
    return count;
  }

  /** A revocation announced by another process. A message that is not one is ignored. */
  private apply(message: string): void {
    const [kind, id, first, second] = message.split(' ');
    if (!id) return;
    if (kind === 'jti' && Number.isFinite(Number(first))) this.addToken(id, Number(first));
    else if (kind === 'user' && Number.isFinite(Number(first)) && Number.isFinite(Number(second))) this.addUser(id, Number(first), Number(second));
  }

  private addToken(jti: string, expiresAt: number): void {
    if (this.overflowed) return;
    this.tokens.set(jti, Math.max(expiresAt, this.tokens.get(jti) ?? 0));
    this.checkSize();
  }

  private addUser(userId: string, at: number, expiresAt: number): void {
    if (this.overflowed || !Number.isFinite(at)) return;
    const known = this.users.get(userId);
    // A later revocation refuses more tokens; an earlier one arriving late changes nothing.
    if (!known || at > known.at || (at === known.at && expiresAt > known.expiresAt)) this.users.set(userId, { at, expiresAt });
    this.checkSize();
  }

  private checkSize(): void {
    if (this.tokens.size + this.users.size > this.maxEntries) this.overflow();
  }

  private overflow(): void {
    if (!this.overflowed)
      this.options.logger.warn({ max_entries: this.maxEntries }, 'denylist mirror is full; checking revocations in Redis until it shrinks');
    this.overflowed = true;
    this.live = false;
    this.tokens.clear();
    this.users.clear();
  }

  /** The subscription broke: what was announced meanwhile is unknown, so Redis answers until it is back and reloaded. */
  private lose(): void {
    this.generation += 1;
    this.live = false;
    clearTimeout(this.resync);
  }

  private sweep(): void {
    const now = this.now();
    for (const [jti, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(jti);
    for (const [userId, user] of this.users) if (user.expiresAt <= now) this.users.delete(userId);
    // After an overflow, try again from time to time: the entries expire with their tokens.
    if (this.overflowed && this.subscriber.status === 'ready') void this.sync();
  }
}
