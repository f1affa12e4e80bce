import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createEvent, type EventBus, type EventEnvelope, type EventType } from '@galion/events';
import { createLogger, createRedis, waitForRedis } from '@galion/kit';
import { testRedis } from '@galion/localdeps';
import { StaticKeySource, TokenVerifier } from '@galion/tokens';
import type { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import supertest from 'supertest';
import { loadFeedConfig, type FeedConfig } from '../src/config';
import type { FeedEntry, FeedReader } from '../src/domain/feed-reader';
import { composeFeed, type ComposedFeed } from '../src/service';

export const ISSUER = 'https://api.example.test/api/v1/auth';
export const silentLogger = createLogger({ service: 'feed-test', level: 'silent' });

/** An Ed25519 key of the test's own, a verifier that trusts it, and tokens signed with it. */
export const testTokens = async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  const verifier = new TokenVerifier({
    keys: await StaticKeySource.fromJwks({ keys: [jwk as never] }),
    issuer: ISSUER,
    audience: 'galion',
  });
  const sign = (sub: string) =>
    new SignJWT({ role: 'user' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience('galion')
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { verifier, sign };
};

/** The feed's settings for a test: the shared test Redis under a prefix of its own, no consumer unless asked. */
export const feedEnv = (env: Record<string, string> = {}): Record<string, string> => {
  const redis = testRedis();
  return {
    LOG_LEVEL: 'silent',
    API_CHECK_RESPONSES: 'true',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
    REDIS_URL: redis.url,
    FEED_REDIS_PREFIX: `${redis.prefix}feed:`,
    FEED_CONSUMER_ENABLED: 'false',
    ...env,
  };
};

export interface FeedHarness {
  service: ComposedFeed;
  config: FeedConfig;
  http: ReturnType<typeof supertest>;
  /** A Bearer header value for `userId`. */
  bearer(userId: string): Promise<string>;
  /** Applies events as the consumer would (one batch). */
  apply(...events: EventEnvelope[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts the feed in-process. The consumer runs only when the env turns it on (with a bus or KAFKA_BROKERS). */
export const startFeed = async (options: { env?: Record<string, string>; bus?: EventBus; redis?: Redis } = {}): Promise<FeedHarness> => {
  const config = loadFeedConfig(feedEnv(options.env));
  const tokens = await testTokens();
  const service = await composeFeed(config, { logger: silentLogger, bus: options.bus, redis: options.redis, verifier: tokens.verifier });
  return {
    service,
    config,
    http: supertest(service.app),
    bearer: async (userId) => `Bearer ${await tokens.sign(userId)}`,
    apply: async (...events) => {
      await service.updater.apply(events);
    },
    async close() {
      for (const closer of [...service.closers].reverse()) await closer.close();
    },
  };
};

/** A Redis client of the test's own. */
export const connectRedis = async (url: string): Promise<Redis> => {
  const redis = createRedis(url);
  await waitForRedis(redis);
  return redis;
};

/** Ids a test can tell apart: `user-<stem>-<random>`. */
export const uniqueName = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;
export const userId = (): string => randomUUID();

let clock = Date.now() - 60_000;
/** Strictly increasing event times, a few ms apart, starting a minute ago. */
export const tick = (step = 7): Date => new Date((clock += step));

const event = <T extends EventType>(type: T, subject: string, data: EventEnvelope<T>['data'], time: Date = tick()): EventEnvelope<T> =>
  createEvent(type, { source: 'test', subject, data, time });

/** The events the feed reads, as users and posts write them. */
export const events = {
  followed: (follower: string, followee: string, time?: Date) => event('user.followed', follower, { followee_id: followee }, time),
  unfollowed: (follower: string, followee: string, time?: Date) => event('user.unfollowed', follower, { followee_id: followee }, time),
  published: (author: string, postId: string, time?: Date, title = `Post ${postId.slice(0, 8)}`) =>
    event('post.published', author, { post_id: postId, title, tags: ['news'] }, time),
  updated: (author: string, postId: string, published: boolean, time?: Date) =>
    event('post.updated', author, { post_id: postId, changes: ['published'], published }, time),
  postDeleted: (author: string, postId: string, time?: Date) => event('post.deleted', author, { post_id: postId }, time),
  commented: (commenter: string, postId: string, postAuthor: string, commentId: string = randomUUID(), time?: Date) =>
    event('comment.created', commenter, { comment_id: commentId, post_id: postId, post_author_id: postAuthor }, time),
  commentDeleted: (commenter: string, postId: string, commentId: string, time?: Date) =>
    event('comment.deleted', commenter, { comment_id: commentId, post_id: postId }, time),
  userDeleted: (user: string, time?: Date) => event('user.deleted', user, {}, time),
};

/** Every entry of a feed, page after page (pages of `limit`), and the pages' sizes. */
export const readAll = async (read: (cursor: string | undefined) => Promise<{ items: FeedEntry[]; nextCursor: string | null }>) => {
  const items: FeedEntry[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1_000; pages += 1) {
    const page = await read(cursor);
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
  throw new Error('more than 1,000 pages');
};

export const homeOf = (reader: FeedReader, user: string, limit = 7) => readAll((cursor) => reader.home(user, { limit, cursor }));
export const globalOf = (reader: FeedReader, limit = 7) => readAll((cursor) => reader.global({ limit, cursor }));
export const ids = (entries: FeedEntry[]) => entries.map((entry) => entry.id);

/**
 * Polls until `predicate` holds; fails after `timeoutMs` naming `what`. A predicate that throws
 * counts as "not yet" (a broker still electing its group coordinator), its last error in the message.
 */
export const eventually = async (predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await predicate()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
};

/** Creates topics on the shared broker, retrying while it is busy electing leaders for other tests' topics. */
export const ensureTestTopics = async (bus: EventBus, topics: { name: string; partitions: number }[]): Promise<void> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await bus.ensureTopics(topics);
      return;
    } catch (error) {
      if (attempt === 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
};

/** Every key under `prefix` with its content (scores included), for comparing whole states. */
export const keyspace = async (redis: Redis, prefix: string): Promise<Record<string, unknown>> => {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const state: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    const name = key.slice(prefix.length);
    if (type === 'string') state[name] = await redis.get(key);
    else if (type === 'set') state[name] = (await redis.smembers(key)).sort();
    else if (type === 'hash') state[name] = await redis.hgetall(key);
    else if (type === 'zset') state[name] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else state[name] = type;
  }
  return state;
};

/** The value of a metric sample in the Prometheus text format, or undefined when absent. */
export const metricValue = (text: string, sample: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
};
