import { AppError } from '@galion/kit';

export interface HashingLimits {
  /** Hashes computed at once: each takes a thread of libuv's pool and, while it runs, a core. */
  concurrency: number;
  /** Requests let in beyond those hashing (waiting for their turn, or reading the account first); past that, refused at once. */
  maxWaiting: number;
}

/** One request's place in the queue: its hashes take their turns; it leaves when it is done. */
export interface HashingPlace {
  run<T>(hash: () => Promise<T>): Promise<T>;
  /** Runs `hash` only if a thread is free now: for work that can be done another time (a rehash). */
  runIfIdle<T>(hash: () => Promise<T>): Promise<T | undefined>;
  leave(): void;
}

/**
 * Admission to password hashing (argon2id, tens of milliseconds of a core each). A request that
 * will hash takes a place first, before the database work that leads to its hash: at most
 * `concurrency + maxWaiting` requests hold one, and beyond that a request is refused at once with
 * 503 overloaded and a Retry-After, having cost no I/O, rather than queueing behind hundreds of
 * others for seconds. At most `concurrency` hashes run at once; the others wait in order of
 * arrival, so a burst of logins cannot take every thread of the pool from the rest of the process.
 */
export class HashingQueue {
  private admitted = 0;
  private hashingNow = 0;
  private readonly line: (() => void)[] = [];
  /**
   * How long one hash takes, an exponentially weighted mean of the last ones: Retry-After is how
   * long the requests let in take to drain. Until the first hash is timed, a guess of its size.
   */
  private meanMs = 50;

  constructor(
    private readonly limits: HashingLimits,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** Hashes being computed. */
  get running(): number {
    return this.hashingNow;
  }

  /** Requests let in that are not hashing: waiting for their turn, or on their way to it. */
  get waiting(): number {
    return this.admitted - this.hashingNow;
  }

  /** A place for one request's hashes, or 503 at once when the queue is full. */
  enter(): HashingPlace {
    if (this.admitted >= this.limits.concurrency + this.limits.maxWaiting) throw this.refuse();
    this.admitted += 1;
    let left = false;
    return {
      run: (hash) => this.run(hash),
      runIfIdle: async (hash) => (this.hashingNow < this.limits.concurrency ? this.run(hash) : undefined),
      leave: () => {
        if (left) return;
        left = true;
        this.admitted -= 1;
      },
    };
  }

  private async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.hashingNow < this.limits.concurrency) this.hashingNow += 1;
    else await new Promise<void>((resolve) => this.line.push(resolve));
    const started = performance.now();
    try {
      return await hash();
    } finally {
      this.meanMs += (performance.now() - started - this.meanMs) / 8;
      // The thread goes to the first in line, or is freed.
      const next = this.line.shift();
      if (next) next();
      else this.hashingNow -= 1;
    }
  }

  private refuse(): AppError {
    this.onRefused();
    const drainSeconds = (this.admitted / this.limits.concurrency) * (this.meanMs / 1000);
    return new AppError(503, 'overloaded', 'Too many passwords are being checked at once; try again in a moment.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(drainSeconds))) },
    });
  }
}
