import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { HashingPlace, HashingQueue } from './hashing-queue.js';

export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** The hashes one request may make, in its place in the hashing queue. */
export interface PasswordChecks {
  hash(password: string): Promise<string>;
  /** A hash made now if a thread is free, else undefined: for work that can be done another time (a rehash). */
  hashIfIdle(password: string): Promise<string | undefined>;
  /** True when the password matches; false for a wrong one or a hash argon2 cannot read. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of a verification without an account, and always fails. */
  verifyNothing(password: string): Promise<false>;
}

/**
 * argon2id hashing. The work runs on libuv's thread pool, so the event loop keeps serving while a
 * hash is computed, and each request takes its place in the hashing queue first (503 at once
 * when it is full). Hashes made with weaker parameters than today's are flagged for rehashing.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly parameters: Argon2Parameters,
    private readonly queue: HashingQueue,
  ) {
    // A real hash with today's parameters, checked when the account does not exist, so that
    // "unknown email" costs the same time as "wrong password".
    this.dummyHash = this.hash(randomBytes(24).toString('base64url'));
  }

  /**
   * Runs `work` with a place in the hashing queue, taken before it starts: a request refused for
   * want of room (503) has done nothing, not even its database reads.
   */
  async withPlace<T>(work: (checks: PasswordChecks) => Promise<T>): Promise<T> {
    const place = this.queue.enter();
    try {
      return await work(this.checksIn(place));
    } finally {
      place.leave();
    }
  }

  /** One hash, in a place of its own. */
  hash(password: string): Promise<string> {
    return this.withPlace((checks) => checks.hash(password));
  }

  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, {
      memoryCost: this.parameters.memoryKib,
      timeCost: this.parameters.timeCost,
      parallelism: this.parameters.parallelism,
    });
  }

  private checksIn(place: HashingPlace): PasswordChecks {
    const hash = (password: string) =>
      argon2.hash(password, {
        type: argon2.argon2id,
        memoryCost: this.parameters.memoryKib,
        timeCost: this.parameters.timeCost,
        parallelism: this.parameters.parallelism,
      });
    const verify = (digest: string, password: string) => place.run(() => argon2.verify(digest, password).catch(() => false));
    return {
      hash: (password) => place.run(() => hash(password)),
      hashIfIdle: (password) => place.runIfIdle(() => hash(password)),
      verify,
      verifyNothing: async (password) => {
        await verify(await this.dummyHash, password);
        return false;
      },
    };
  }
}
