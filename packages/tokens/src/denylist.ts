import type { KeyValueStore } from '@galion/kit';

/**
 * Revocation that takes effect at once across replicas: a revoked token id stays listed until
 * the token would have expired anyway; a revoked user has every token issued before a moment refused.
 */
export interface Revocation {
  tokenRevoked: boolean;
  /** Tokens of the user issued at or before this moment (seconds) are refused. */
  userRevokedAt: number | undefined;
}

export interface Denylist {
  revokeToken(jti: string, expiresAtSeconds: number): Promise<void>;
  /** Both look-ups a request needs, in one round trip: is this token revoked, and since when is its user. */
  revocation(jti: string, userId: string): Promise<Revocation>;
  /** Refuses every token of `userId` issued at or before `atSeconds`, for `ttlSeconds` (the access-token lifetime). */
  revokeUser(userId: string, atSeconds: number, ttlSeconds: number): Promise<void>;
  userRevokedAt(userId: string): Promise<number | undefined>;
}

/**
 * Where each revocation is announced (a channel under the store's key prefix), so that a process
 * can keep the denylist in memory (DenylistMirror) instead of asking the store on every request.
 * Messages: `jti <id> <expires at, ms>` and `user <id> <revoked at, s> <expires at, ms>`.
 */
export const DENYLIST_CHANNEL = 'denylist:changes';

/** The denylist in the key-value store: written by auth and users, read by every service. */
export class StoreDenylist implements Denylist {
  constructor(
    private readonly store: KeyValueStore,
    private readonly now: () => number = Date.now,
  ) {}

  async revokeToken(jti: string, expiresAtSeconds: number) {
    const ttlMs = expiresAtSeconds * 1000 - this.now();
    if (ttlMs <= 0) return;
    await this.store.set(`denylist:jti:${jti}`, '1', ttlMs);
    await this.store.publish(DENYLIST_CHANNEL, `jti ${jti} ${expiresAtSeconds * 1000}`);
  }

  async revocation(jti: string, userId: string) {
    const [token, user] = await this.store.getMany([`denylist:jti:${jti}`, `denylist:user:${userId}`]);
    return { tokenRevoked: token != null, userRevokedAt: user == null ? undefined : Number(user) };
  }

  async revokeUser(userId: string, atSeconds: number, ttlSeconds: number) {
    await this.store.set(`denylist:user:${userId}`, String(atSeconds), ttlSeconds * 1000);
    await this.store.publish(DENYLIST_CHANNEL, `user ${userId} ${atSeconds} ${this.now() + ttlSeconds * 1000}`);
  }

  async userRevokedAt(userId: string) {
    const value = await this.store.get(`denylist:user:${userId}`);
    return value === null ? undefined : Number(value);
  }
}
