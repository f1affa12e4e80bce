import { createRedis, waitForRedis, type Closers } from '@galion/kit';
import type { Redis } from 'ioredis';
import type { FeedConfig } from './config.js';
import { FeedStore } from './repositories/feed-store.js';

/** The feed's Redis: the one injected, or a client to REDIS_URL, connected before the service starts. */
export const connectFeedRedis = async (config: FeedConfig, infra: { redis?: Redis }, closers: Closers): Promise<Redis> => {
  if (infra.redis) return infra.redis;
  const redis = createRedis(config.redisUrl);
  try {
    await waitForRedis(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  closers.push({ name: 'redis', close: () => redis.quit().catch(() => redis.disconnect()) });
  return redis;
};

export const feedStoreOf = (redis: Redis, config: FeedConfig): FeedStore =>
  new FeedStore(redis, {
    prefix: config.redisPrefix,
    maxEntries: config.maxEntries,
    globalMaxEntries: config.globalMaxEntries,
    fanoutMaxFollowers: config.fanoutMaxFollowers,
  });
