import { dependencyUnavailable, unauthorized, type Logger } from '@galion/kit';
import { importJWK, type JWK, type JWTHeaderParameters } from 'jose';

type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

/** Where a verifier finds the public key for a token's `kid`. */
export interface KeySource {
  keyFor(header: JWTHeaderParameters): Promise<VerificationKey>;
}

const unknownKey = () => unauthorized('token_invalid', 'The token was signed with a key this service does not know.');

const importKeys = async (jwks: { keys?: JWK[] }): Promise<Map<string, VerificationKey>> => {
  const keys = new Map<string, VerificationKey>();
  for (const jwk of jwks.keys ?? []) {
    if (!jwk.kid || !jwk.alg) continue;
    keys.set(jwk.kid, await importJWK(jwk, jwk.alg));
  }
  return keys;
};

/** Keys known in-process (the auth service verifying its own tokens, or a test). */
export class StaticKeySource implements KeySource {
  private constructor(private readonly keys: Map<string, VerificationKey>) {}

  static async fromJwks(jwks: { keys: JWK[] }): Promise<StaticKeySource> {
    return new StaticKeySource(await importKeys(jwks));
  }

  async keyFor(header: JWTHeaderParameters) {
    const key = header.kid ? this.keys.get(header.kid) : undefined;
    if (!key) throw unknownKey();
    return key;
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

  async keyFor(header: JWTHeaderParameters) {
    if (this.fetchedAt === 0) await this.refresh();
    else if (Date.now() - this.fetchedAt > this.ttlMs) void this.refresh().catch(() => undefined);
    const kid = header.kid;
    if (!kid) throw unknownKey();
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.lastUnknownKidRefresh > this.cooldownMs) {
      this.lastUnknownKidRefresh = Date.now();
      await this.refresh();
      key = this.keys.get(kid);
    }
    if (!key) throw unknownKey();
    return key;
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
      const keys = await importKeys((await response.json()) as { keys?: JWK[] });
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
