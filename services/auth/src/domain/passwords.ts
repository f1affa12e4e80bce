import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id hashing. The work runs on libuv's thread pool, so the event loop keeps serving while a
 * hash is computed. Hashes made with weaker parameters than today's are flagged for rehashing.
 */
export class PasswordHasher {
  private readonly dummyHash: Promise<string>;

  constructor(private readonly parameters: Argon2Parameters) {
    // A real hash with today's parameters, checked when the account does not exist, so that
    // "unknown email" costs the same time as "wrong password".
    this.dummyHash = this.hash(randomBytes(24).toString('base64url'));
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.parameters.memoryKib,
      timeCost: this.parameters.timeCost,
      parallelism: this.parameters.parallelism,
    });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time of a verification without an account, and always fails. */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(await this.dummyHash, password);
    return false;
  }

  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, {
      memoryCost: this.parameters.memoryKib,
      timeCost: this.parameters.timeCost,
      parallelism: this.parameters.parallelism,
    });
  }
}
