import { createPublicKey, type KeyObject } from 'node:crypto';
import { dependencyUnavailable, type Logger } from '@galion/kit';
import type { JWK } from 'jose';
import { isAccessTokenAlgorithm, type AccessTokenAlgorithm } from './claims.js';

/** A public key that verifies access tokens, imported once (a KeyObject, ready for crypto.verify). */
export interface VerificationKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  key: KeyObject;
}

/** Where a verifier finds the public key for a token's `kid`. */
export interface KeySource {
  /** The key of `kid`, or undefined when this source has none by that id. */
  keyFor(kid: string | undefined): Promise<VerificationKey | undefined>;
}

/** The key type each algorithm needs, as node:crypto names it. */
const fitsAlgorithm = (key: KeyObject, alg: AccessTokenAlgorithm): boolean =>
  alg === 'EdDSA'
    ? key.asymmetricKeyType === 'ed25519'
    : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/**
 * The keys of a JWKS that can verify an access token, by kid. A key without a kid, or of an
 * algorithm tokens may not use, verifies nothing and is left out; a key whose material does not
 * fit its `alg` is a broken key set and throws.
 */
const importKeys = (jwks: { keys?: JWK[] }): Map<string, VerificationKey> => {
  const keys = new Map<string, VerificationKey>();
  for (const jwk of jwks.keys ?? []) {
    if (!jwk.kid || !isAccessTokenAlgorithm(jwk.alg)) continue;
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    if (!fitsAlgorithm(key, jwk.alg)) throw new Error(`JWKS key ${jwk.kid} is a ${key.asymmetricKeyType} key, not one for ${jwk.alg}`);
    keys.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, key });
  }
  return keys;
};

/** Keys known in-process (the auth service verifying its own tokens, or a test). */
export class StaticKeySource implements KeySource {
  private constructor(private readonly keys: Map<string, VerificationKey>) {}

  static async fromJwks(jwks: { keys: JWK[] }): Promise<StaticKeySource> {
    return new StaticKeySource(importKeys(jwks));
  }

  async keyFor(kid: string | undefined) {
    return kid ? this.keys.get(kid) : undefined;
  }
}

export interface RemoteJwksOptions {
  url: string;
  /** How long fetched keys count as fresh; after that they are still used while a refresh runs. */
  ttlMs?: number;
  /** Least time between two refetches caused by unknown `kid`s, so bad tokens cannot flood auth. */
  unknownKidCooldownMs?: number;
  fetchTimeoutMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

/**
 * The auth service's JWKS, fetched and cached: fresh for a TTL, served stale while a background
 * refresh runs, refetched at once for an unknown `kid` (rotation), and kept when auth is briefly down.
 */
export class RemoteJwks implements KeySource {
  private keys = new Map<string, VerificationKey>();
  private fetchedAt = 0;
  private lastUnknownKidRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private readonly ttlMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RemoteJwksOptions) {
    this.ttlMs = options.ttlMs ?? 300_000;
    this.cooldownMs = options.unknownKidCooldownMs ?? 10_000;
    this.timeoutMs = options.fetchTimeoutMs ?? 3_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async keyFor(kid: string | undefined) {
    if (this.fetchedAt === 0) await this.refresh();
    else if (Date.now() - this.fetchedAt > this.ttlMs) void this.refresh().catch(() => undefined);
    if (!kid) return undefined;
    if (!this.keys.has(kid) && Date.now() - this.lastUnknownKidRefresh > this.cooldownMs) {
      this.lastUnknownKidRefresh = Date.now();
      await this.refresh();
    }
    return this.keys.get(kid);
  }

  /** Fetches the key set now (deduplicated with a refresh already under way). */
  refresh(): Promise<void> {
    this.refreshing ??= this.fetchKeys().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const response = await this.fetchImpl(this.options.url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
      const keys = importKeys((await response.json()) as { keys?: JWK[] });
      if (keys.size === 0) throw new Error('JWKS has no usable keys');
      this.keys = keys;
      this.fetchedAt = Date.now();
    } catch (error) {
      this.options.logger?.warn({ err: error, url: this.options.url }, 'fetching the JWKS failed');
      // Known keys keep working through a short auth outage; with none, nothing can be verified.
      if (this.keys.size === 0) throw dependencyUnavailable('auth JWKS', error);
      this.fetchedAt = Date.now() - this.ttlMs + Math.min(this.ttlMs, 5_000);
    }
  }
}
