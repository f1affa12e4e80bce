import { MemoryStore, type KeyValueStore } from '@galion/kit';
import { LeasedCounter, type Verdict } from '../src/leased-counter';
import { clientAddressKey } from '../src/rate-limit';

/** A clock the test moves, shared by the store and the counters. */
const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

const take = async (counter: LeasedCounter, key: string): Promise<Verdict> => counter.take(key);

/** A store that counts the calls made to it. */
const countingStore = (store: KeyValueStore) => {
  const calls = { count: 0 };
  const counted = Object.create(store) as KeyValueStore;
  counted.incrementInWindow = (...args) => {
    calls.count += 1;
    return store.incrementInWindow(...args);
  };
  return { store: counted, calls };
};

describe('leased counter', () => {
  it('when one replica counts, then every answer is exact and the store is asked once per lease, not per request', async () => {
    const time = clock();
    const { store, calls } = countingStore(new MemoryStore(time.now));
    const counter = new LeasedCounter(store, { limit: 1_000, windowMs: 60_000, prefix: 't:', now: time.now });

    const verdicts: Verdict[] = [];
    for (let i = 0; i < 200; i += 1) verdicts.push(await take(counter, 'alice'));

    expect(verdicts.map((verdict) => verdict.remaining)).toEqual(Array.from({ length: 200 }, (_, i) => 999 - i));
    expect(verdicts.every((verdict) => verdict.allowed)).toBe(true);
    // Leases of 1/16 of what is left, at most 64: 62 + 58 + 55 + 51 covers 200.
    expect(calls.count).toBe(4);
  });

  it('when the limit is reached, then the next request is refused with the time left in the window', async () => {
    const time = clock();
    const counter = new LeasedCounter(new MemoryStore(time.now), { limit: 3, windowMs: 60_000, prefix: 't:', now: time.now });

    const allowed = [await take(counter, 'k'), await take(counter, 'k'), await take(counter, 'k')];
    time.advance(10_000);
    const refused = await take(counter, 'k');

    expect(allowed.map((verdict) => [verdict.allowed, verdict.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    expect(refused).toEqual({ allowed: false, remaining: 0, resetMs: 50_000 });
  });

  it('when two replicas share the count, then together they never let more than the limit through', async () => {
    const time = clock();
    const store = new MemoryStore(time.now);
    const options = { limit: 500, windowMs: 60_000, prefix: 't:', now: time.now, recheckMs: 0 };
    const replicas = [new LeasedCounter(store, options), new LeasedCounter(store, options)];

    let allowed = 0;
    for (let i = 0; i < 1_200; i += 1) if ((await take(replicas[i % 2]!, 'bob')).allowed) allowed += 1;

    expect(allowed).toBe(500);
    expect(await store.get('t:bob')).toBe('500');
  });

  it('when requests arrive together, then one lease serves them all', async () => {
    const time = clock();
    const { store, calls } = countingStore(new MemoryStore(time.now));
    const counter = new LeasedCounter(store, { limit: 1_000, windowMs: 60_000, prefix: 't:', now: time.now });

    const verdicts = await Promise.all(Array.from({ length: 40 }, () => take(counter, 'carol')));

    expect(calls.count).toBe(1);
    expect(new Set(verdicts.map((verdict) => verdict.remaining)).size).toBe(40);
  });

  it('when a replica holds quota its key no longer uses, then it goes back, and another replica can use it', async () => {
    const time = clock();
    const store = new MemoryStore(time.now);
    const options = { limit: 160, windowMs: 60_000, prefix: 't:', now: time.now, recheckMs: 0 };
    const [first, second] = [new LeasedCounter(store, options), new LeasedCounter(store, options)];

    await take(first, 'dave'); // leases 10, uses 1
    time.advance(1_500);
    await first.sweep();
    let allowed = 0;
    for (let i = 0; i < 200; i += 1) if ((await take(second, 'dave')).allowed) allowed += 1;

    expect(await store.get('t:dave')).toBe('160');
    expect(allowed).toBe(159);
  });

  it('when the window ends, then the count starts again and the old entry is dropped', async () => {
    const time = clock();
    const counter = new LeasedCounter(new MemoryStore(time.now), { limit: 2, windowMs: 1_000, prefix: 't:', now: time.now });

    await take(counter, 'erin');
    await take(counter, 'erin');
    const refused = await take(counter, 'erin');
    time.advance(1_001);
    const again = await take(counter, 'erin');
    await take(counter, 'other');
    time.advance(1_001);
    await counter.sweep();

    expect(refused.allowed).toBe(false);
    expect(again).toMatchObject({ allowed: true, remaining: 1 });
    expect(counter.size).toBe(0);
  });

  it('when the store fails, then the request fails, and the next one asks again', async () => {
    const time = clock();
    const store = new MemoryStore(time.now);
    const failing = Object.create(store) as KeyValueStore;
    let down = true;
    failing.incrementInWindow = (...args) => (down ? Promise.reject(new Error('store down')) : store.incrementInWindow(...args));
    const counter = new LeasedCounter(failing, { limit: 10, windowMs: 60_000, prefix: 't:', now: time.now });

    await expect(take(counter, 'frank')).rejects.toThrow('store down');
    down = false;

    expect(await take(counter, 'frank')).toMatchObject({ allowed: true, remaining: 9 });
  });
});

describe('client address key', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['::203.0.113.7', '203.0.113.7'],
    ['2001:db8:abcd:12ff:1:2:3:4', '2001:db8:abcd:1200::/56'],
    ['2001:db8:abcd:1201::9', '2001:db8:abcd:1200::/56'],
    ['::1', '0:0:0:0::/56'],
  ])('when the address is %s, then its key is %s', (address, key) => {
    expect(clientAddressKey(address)).toBe(key);
  });
});
