import { Redis } from 'ioredis';
import { startRedis, testRedis } from '../src/index';

// Fails fast instead of retrying, so a stopped server shows up as an error.
const connect = (url: string): Redis => new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });

describe('startRedis', () => {
  test('serves Redis without persistence and comes back on the same port after stop', async () => {
    const redis = await startRedis();
    try {
      const before = connect(redis.url);
      await before.set('greeting', 'hello');
      expect(await before.get('greeting')).toBe('hello');
      expect(await before.config('GET', 'save')).toEqual(['save', '']);
      before.disconnect();

      await redis.stop();
      const during = connect(redis.url);
      await expect(during.ping()).rejects.toThrow();
      during.disconnect();

      await redis.start();
      const after = connect(redis.url);
      expect(await after.ping()).toBe('PONG');
      expect(await after.get('greeting')).toBeNull();
      after.disconnect();
    } finally {
      await redis.stop();
    }
  });
});

describe('testRedis', () => {
  test('gives the shared server with a key prefix of its own per call', async () => {
    const first = testRedis();
    const second = testRedis();
    expect(first.url).toBe(second.url);
    expect(first.prefix).not.toBe(second.prefix);

    const client = connect(first.url);
    try {
      await client.set(`${first.prefix}key`, 'first');
      await client.set(`${second.prefix}key`, 'second');
      expect(await client.mget(`${first.prefix}key`, `${second.prefix}key`)).toEqual(['first', 'second']);
    } finally {
      await client.del(`${first.prefix}key`, `${second.prefix}key`);
      client.disconnect();
    }
  });
});
