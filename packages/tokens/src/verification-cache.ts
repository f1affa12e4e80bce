import type { AccessClaims } from './claims.js';

/**
 * Remembers tokens whose signature and claims already verified, so a client's next requests
 * with the same token skip the signature check (the largest CPU cost of a proxied request).
 * Keyed by the exact token string; an entry lives until the token expires, at most `maxAgeMs`
 * (so a key withdrawn from the JWKS stops being honoured soon), and the cache holds at most
 * `maxEntries` tokens. Revocation is not cached: the denylist is asked on every request.
 */
export class VerificationCache {
  private readonly entries = new Map<string, { claims: AccessClaims; until: number }>();

  constructor(
    /** The check whose result is kept: signature and claims, no revocation. */
    private readonly verifyToken: (token: string) => Promise<AccessClaims>,
    private readonly options: { maxEntries: number; maxAgeMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<AccessClaims> {
    const now = this.now();
    const hit = this.entries.get(token);
    if (hit && hit.until > now) return hit.claims;
    if (hit) this.entries.delete(token);
    const claims = await this.verifyToken(token);
    if (this.options.maxEntries > 0) {
      if (this.entries.size >= this.options.maxEntries) {
        // The oldest entry goes first (Map keeps insertion order).
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(token, { claims, until: Math.min(claims.exp * 1000, now + this.options.maxAgeMs) });
    }
    return claims;
  }

  get size(): number {
    return this.entries.size;
  }
}
