import type { KeyValueStore } from '@galion/kit';

/**
 * Revocation that takes effect at once across replicas: a revoked token id stays listed until
 * the token would have expired anyway; a revoked user has every token issued before a moment refused.
 */
export interface Denylist {
  revokeToken(jti: string, expiresAtSeconds: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Refuses every token of `userId` issued at or before `atSeconds`, for `ttlSeconds` (the access-token lifetime). */
  revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void>;
  userRevokedAt(userId: string): Promise<number | undefined>;
}

export class StoreDenylist implements Denylist {
  constructor(
    private readonly store: KeyValueStore,
    private readonly now: () => number = Date.now,
  ) {}

  async revokeToken(jti: string, expiresAtSeconds: number) {
    const ttlMs = expiresAtSeconds * 1000 - this.now();
    if (ttlMs > 0) await this.store.set(`denylist:jti:${jti}`, '1', ttlMs);
  }

  async isTokenRevoked(jti: string) {
    return (await this.store.get(`denylist:jti:${jti}`)) !== null;
  }

  async revokeUser(userId: string, atSeconds: number, ttlSeconds: number) {
    await this.store.set(`denylist:user:${userId}`, String(atSeconds), ttlSeconds * 1000);
  }

  async userRevokedAt(userId: string) {
    const value = await this.store.get(`denylist:user:${userId}`);
    return value === null ? undefined : Number(value);
  }
}
