import { availableParallelism } from 'node:os';
import { AppError } from '@galion/kit';
import { loadAuthConfig } from '../src/config';
import { HashingQueue } from '../src/domain/hashing-queue';

/** A hash the test finishes when it chooses, and a record of which ones started. */
const controlledHashes = () => {
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const hash = (id: number) => () => {
    started.push(id);
    return new Promise<number>((resolve) => finish.set(id, () => resolve(id)));
  };
  return { started, hash, finish: (id: number) => finish.get(id)!() };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the password hashing queue', () => {
  /** A request that takes its place, hashes once and leaves, as PasswordHasher.withPlace runs one. */
  const request = async <T>(queue: HashingQueue, hash: () => Promise<T>) => {
    const place = queue.enter();
    try {
      return await place.run(hash);
    } finally {
      place.leave();
    }
  };

  it('when more hashes are asked for than may run, then the extra wait in line and start in order as threads free', async () => {
    const { started, hash, finish } = controlledHashes();
    const queue = new HashingQueue({ concurrency: 2, maxWaiting: 2 });
    const results = [1, 2, 3, 4].map((id) => request(queue, hash(id)));
    await settle();
    expect(started).toEqual([1, 2]);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 2, waiting: 2 });

    finish(2);
    await settle();
    expect(started).toEqual([1, 2, 3]);
    finish(1);
    await settle();
    expect(started).toEqual([1, 2, 3, 4]);
    finish(3);
    finish(4);

    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3, 4]);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it('when the queue is full, then the next request is refused on entering, with 503 overloaded and a Retry-After, and counted', async () => {
    const { started, hash, finish } = controlledHashes();
    let refused = 0;
    const queue = new HashingQueue({ concurrency: 1, maxWaiting: 1 }, () => (refused += 1));
    const accepted = [request(queue, hash(1)), request(queue, hash(2))];

    const error = (() => {
      try {
        queue.enter();
      } catch (failure) {
        return failure as AppError;
      }
      throw new Error('a third place was given');
    })();

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 503, code: 'overloaded' });
    expect(Number(error.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(refused).toBe(1);
    await settle();
    expect(started).toEqual([1]);
    finish(1);
    await settle();
    finish(2);
    await expect(Promise.all(accepted)).resolves.toEqual([1, 2]);
  });

  it('when a request holds its place before it hashes (reading the account), then it counts against the queue all the same', async () => {
    const queue = new HashingQueue({ concurrency: 1, maxWaiting: 1 });
    const reading = [queue.enter(), queue.enter()];
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 0, waiting: 2 });
    expect(() => queue.enter()).toThrow(expect.objectContaining({ status: 503 }));

    reading[0]!.leave();
    reading[0]!.leave();

    expect(queue.waiting).toBe(1);
    expect(() => queue.enter().leave()).not.toThrow();
  });

  it('when no one may wait (maxWaiting 0), then only as many requests as may hash are let in', async () => {
    const { hash, finish } = controlledHashes();
    const queue = new HashingQueue({ concurrency: 1, maxWaiting: 0 });
    const first = request(queue, hash(1));
    expect(() => queue.enter()).toThrow(expect.objectContaining({ status: 503 }));
    finish(1);
    await expect(first).resolves.toBe(1);
    await expect(request(queue, async () => 'free again')).resolves.toBe('free again');
  });

  it('when a hash fails, then its thread is freed all the same', async () => {
    const queue = new HashingQueue({ concurrency: 1, maxWaiting: 0 });
    await expect(request(queue, () => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    await expect(request(queue, async () => 'next')).resolves.toBe('next');
  });

  it('when every thread is hashing, then a hash that can wait for another time (a rehash) is skipped, not queued', async () => {
    const { started, hash, finish } = controlledHashes();
    const queue = new HashingQueue({ concurrency: 1, maxWaiting: 1 });
    const busy = request(queue, hash(1));
    const place = queue.enter();

    await expect(place.runIfIdle(hash(2))).resolves.toBeUndefined();
    finish(1);
    await busy;
    const idle = place.runIfIdle(hash(3));
    await settle();
    finish(3);

    await expect(idle).resolves.toBe(3);
    expect(started).toEqual([1, 3]);
    place.leave();
  });
});

describe('the hashing queue settings', () => {
  const base = { DATABASE_URL: 'postgres://localhost/auth', AUTH_GENERATE_SIGNING_KEY: 'true' };

  it('when AUTH_ARGON2_CONCURRENCY is not below UV_THREADPOOL_SIZE, then start-up refuses, naming it', () => {
    expect(() => loadAuthConfig({ ...base, AUTH_ARGON2_CONCURRENCY: '4' })).toThrow(
      /AUTH_ARGON2_CONCURRENCY: must be below UV_THREADPOOL_SIZE/,
    );
    expect(() => loadAuthConfig({ ...base, AUTH_ARGON2_CONCURRENCY: '8', UV_THREADPOOL_SIZE: '8' })).toThrow(/AUTH_ARGON2_CONCURRENCY/);
    expect(loadAuthConfig({ ...base, AUTH_ARGON2_CONCURRENCY: '8', UV_THREADPOOL_SIZE: '12' }).hashing.concurrency).toBe(8);
  });

  it('when AUTH_ARGON2_CONCURRENCY is unset, then it is the cores, leaving the pool a thread for other work', () => {
    const cores = availableParallelism();
    expect(loadAuthConfig({ ...base, UV_THREADPOOL_SIZE: String(cores + 4) }).hashing).toEqual({ concurrency: cores, maxWaiting: 32 });
    expect(loadAuthConfig({ ...base, UV_THREADPOOL_SIZE: '2' }).hashing.concurrency).toBe(1);
  });

  it('when AUTH_ARGON2_QUEUE_MAX is not a whole number, then start-up refuses, naming it', () => {
    expect(() => loadAuthConfig({ ...base, AUTH_ARGON2_QUEUE_MAX: 'lots' })).toThrow(/AUTH_ARGON2_QUEUE_MAX: must be a whole number/);
  });
});
