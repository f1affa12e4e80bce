import { setTimeout as sleep } from 'node:timers/promises';
import { createRedis, MemoryStore, RedisStore, waitForRedis, type KeyValueStore } from '@galion/kit';
import { testRedis } from '@galion/localdeps';

const stores: [string, () => Promise<KeyValueStore>][] = [
  ['memory', async () => new MemoryStore()],
  [
    'redis',
    async () => {
      const { url, prefix } = testRedis();
      const redis = createRedis(url);
      await waitForRedis(redis);
      return new RedisStore(redis, prefix);
    },
  ],
];

describe.each(stores)('%s key-value store', (_name, make) => {
  let store: KeyValueStore;
  beforeEach(async () => {
    store = await make();
  });
  afterEach(async () => {
    await store.close();
  });

  it('when a value is set with a TTL, then it reads back and expires', async () => {
    await store.set('a', '1', 1_000);
    expect(await store.get('a')).toBe('1');
    expect(await store.ttlMs('a')).toBeGreaterThan(0);
    await sleep(1_100);
    expect(await store.get('a')).toBeNull();
  });

  it('when a counter is incremented, then it counts and keeps the first expiry', async () => {
    expect(await store.increment('c', 10_000)).toBe(1);
    expect(await store.increment('c', 10_000)).toBe(2);
    expect(await store.ttlMs('c')).toBeLessThanOrEqual(10_000);
    await store.delete('c');
    expect(await store.get('c')).toBeNull();
    expect(await store.ttlMs('c')).toBe(0);
  });

  it('when the times to live of several keys are asked at once, then each comes back in the order asked, 0 for a key without one', async () => {
    await store.set('long', '1', 60_000);
    await store.set('short', '1', 5_000);
    await store.set('forever', '1');

    const [long, missing, short, forever] = await store.ttlsMs(['long', 'missing', 'short', 'forever']);

    expect(long).toBeGreaterThan(55_000);
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(5_000);
    expect(missing).toBe(0);
    expect(forever).toBe(0);
    expect(await store.ttlsMs([])).toEqual([]);
  });

  it('when a window is counted in, then the count and the time left come back together, the window kept from its first count', async () => {
    const first = await store.incrementInWindow('w', 10_000, 5);
    await sleep(30);
    const second = await store.incrementInWindow('w', 60_000, -2);

    expect(first.count).toBe(5);
    expect(first.ttlMs).toBeGreaterThan(9_000);
    expect(first.ttlMs).toBeLessThanOrEqual(10_000);
    expect(second.count).toBe(3);
    expect(second.ttlMs).toBeLessThan(first.ttlMs);
  });
});

describe('Redis store outage', () => {
  it('when Redis is unreachable, then commands fail fast instead of hanging', async () => {
    const store = new RedisStore(createRedis('redis://127.0.0.1:1'), 'x:');
    const started = Date.now();
    await expect(store.get('a')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
    await store.close();
  });
});
