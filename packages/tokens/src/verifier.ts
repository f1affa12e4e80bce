import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { AppError, isAppError, unauthorized } from '@galion/kit';
import { ACCESS_TOKEN_TYPE, isAccessTokenAlgorithm, ROLES, type AccessClaims, type AccessTokenAlgorithm, type Role } from './claims.js';
import type { Denylist } from './denylist.js';
import type { KeySource } from './jwks.js';
import { VerificationCache } from './verification-cache.js';

export interface VerifierOptions {
  keys: KeySource;
  issuer: string;
  audience: string;
  denylist?: Denylist;
  clockToleranceSeconds?: number;
  /** Keep verified tokens (signature and claims) in memory: bounded, until expiry or `maxAgeMs`. */
  cache?: { maxEntries: number; maxAgeMs: number };
}

const challenge = (error?: string, description?: string): Record<string, string> => ({
  'WWW-Authenticate': error ? `Bearer realm="galion", error="${error}", error_description="${description ?? ''}"` : 'Bearer realm="galion"',
});

const invalid = (message: string) => unauthorized('token_invalid', message, challenge('invalid_token', message));
const malformed = () => invalid('The token is malformed.');
const algorithmNotAccepted = () => invalid('The token uses a signing algorithm that is not accepted.');
const claimRefused = (claim: string) => invalid(`The token's ${claim} claim is not acceptable here.`);
const expired = () =>
  unauthorized('token_expired', 'The access token has expired; refresh it.', challenge('invalid_token', 'The access token has expired'));

export const tokenMissing = () =>
  unauthorized('token_missing', 'This route needs a bearer access token (Authorization: Bearer <token>).', challenge());

/** A compact JWS (RFC 7515 section 7.1): three base64url segments, header, payload and signature. */
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

/** `typ` compared as media types are (RFC 7515 section 4.1.9): case-insensitive, `application/` implied. */
const mediaType = (typ: string): string => (typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`);
const ACCESS_TOKEN_MEDIA_TYPE = mediaType(ACCESS_TOKEN_TYPE);

/** Distinct protected headers remembered: one per signing key in practice, so a handful. */
const MAX_HEADERS = 64;

/** The protected header once checked: an accepted algorithm, and the key id to look up. */
interface CheckedHeader {
  alg: AccessTokenAlgorithm;
  kid: string | undefined;
}

/** A JSON object from a base64url segment, or undefined for anything else. */
const decodeObject = (segment: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const checkHeader = (segment: string): CheckedHeader => {
  const header = decodeObject(segment);
  if (!header) throw malformed();
  if (typeof header.typ !== 'string' || mediaType(header.typ) !== ACCESS_TOKEN_MEDIA_TYPE) throw claimRefused('typ');
  // No extension is understood here, so none may be critical (RFC 7515 section 4.1.11).
  if (header.crit !== undefined) throw malformed();
  if (typeof header.alg !== 'string' || header.alg === '') throw malformed();
  if (!isAccessTokenAlgorithm(header.alg)) throw algorithmNotAccepted();
  if (header.kid !== undefined && typeof header.kid !== 'string') throw malformed();
  return { alg: header.alg, kid: header.kid };
};

/** The signature check of each algorithm, as node:crypto does it with a KeyObject imported once. */
const SIGNATURE_CHECKS: Record<AccessTokenAlgorithm, (input: Buffer, key: KeyObject, signature: Buffer) => boolean> = {
  EdDSA: (input, key, signature) => verifySignature(null, input, key, signature),
  // JWS carries an ECDSA signature as r ‖ s (IEEE P1363), not as DER.
  ES256: (input, key, signature) => verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature),
};

/**
 * Verifies Galion access tokens: the compact JWS parsed here, `typ`, algorithm (one of the
 * accepted ones and the one of the key, so no algorithm confusion), key, signature, then issuer,
 * audience, expiry and not-before (with the clock tolerance), the required claims and the role,
 * then the denylist. Each failure is a 401 with its own code. The work per token is one
 * signature check with node:crypto and one JSON.parse of the payload: the keys are imported once,
 * and each distinct protected header is parsed and checked once.
 */
export class TokenVerifier {
  private readonly cache: VerificationCache | undefined;
  /** Protected headers of tokens whose signature verified, by their base64url segment. */
  private readonly headers = new Map<string, CheckedHeader>();
  private readonly toleranceSeconds: number;

  constructor(private readonly options: VerifierOptions) {
    // A signature check costs about as much CPU as the rest of a small request: a client's next
    // requests with the same token skip it. Revocation is never cached.
    this.cache =
      options.cache && options.cache.maxEntries > 0
        ? new VerificationCache((token) => this.verifyUncached(token), options.cache)
        : undefined;
    this.toleranceSeconds = options.clockToleranceSeconds ?? 5;
  }

  async verify(token: string): Promise<AccessClaims> {
    const claims = await this.verifyStateless(token);
    await this.checkRevocation(claims);
    return claims;
  }

  /**
   * Everything but the denylist (no I/O once the keys are cached), for a caller that runs the
   * revocation check itself, e.g. next to other look-ups. `verify` is both in one.
   */
  async verifyStateless(token: string): Promise<AccessClaims> {
    return this.cache ? this.cache.verify(token) : this.verifyUncached(token);
  }

  private async verifyUncached(token: string): Promise<AccessClaims> {
    const segments = COMPACT_JWS.exec(token);
    if (!segments) throw malformed();
    const [headerSegment, payloadSegment, signatureSegment] = [segments[1]!, segments[2]!, segments[3]!];
    const known = this.headers.get(headerSegment);
    const header = known ?? checkHeader(headerSegment);
    const key = await this.options.keys.keyFor(header.kid);
    if (!key) throw invalid('The token was signed with a key this service does not know.');
    if (key.alg !== header.alg) throw algorithmNotAccepted();
    // 4n+1 characters are not base64url: the last one would carry no whole byte.
    if (signatureSegment.length % 4 === 1) throw malformed();
    const signingInput = Buffer.from(token.slice(0, headerSegment.length + 1 + payloadSegment.length), 'latin1');
    let verified = false;
    try {
      verified = SIGNATURE_CHECKS[header.alg](signingInput, key.key, Buffer.from(signatureSegment, 'base64url'));
    } catch {
      // Whatever OpenSSL makes of a forged signature, the answer is a 401, never a 500.
    }
    if (!verified) throw invalid('The token signature is not valid.');
    if (!known) this.remember(headerSegment, header);
    const payload = decodeObject(payloadSegment);
    if (!payload) throw malformed();
    return this.checkClaims(payload);
  }

  private remember(segment: string, header: CheckedHeader): void {
    if (this.headers.size >= MAX_HEADERS) this.headers.delete(this.headers.keys().next().value!);
    this.headers.set(segment, header);
  }

  private checkClaims(payload: Record<string, unknown>): AccessClaims {
    if (payload.iss !== this.options.issuer) throw claimRefused('iss');
    const { aud } = payload;
    if (!(aud === this.options.audience || (Array.isArray(aud) && aud.includes(this.options.audience)))) throw claimRefused('aud');
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number') throw claimRefused('iat');
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + this.toleranceSeconds))
      throw claimRefused('nbf');
    if (typeof payload.exp !== 'number') throw claimRefused('exp');
    if (payload.exp <= now - this.toleranceSeconds) throw expired();
    // Every claim a token must have is checked for its type, so a missing one is refused by name.
    if (typeof payload.sub !== 'string') throw claimRefused('sub');
    if (typeof payload.jti !== 'string') throw claimRefused('jti');
    if (typeof payload.role !== 'string' || !ROLES.includes(payload.role as Role)) throw invalid('The token carries no valid role.');
    return payload as unknown as AccessClaims;
  }

  /** 401 token_revoked when the token or all of its user's earlier tokens are on the denylist. */
  async checkRevocation(claims: AccessClaims): Promise<void> {
    const denylist = this.options.denylist;
    if (!denylist) return;
    const { tokenRevoked, userRevokedAt } = await denylist.revocation(claims.jti, claims.sub);
    if (tokenRevoked || (userRevokedAt !== undefined && claims.iat <= userRevokedAt)) {
      throw unauthorized(
        'token_revoked',
        'The access token has been revoked; log in again.',
        challenge('invalid_token', 'The access token has been revoked'),
      );
    }
  }
}

export const isAuthError = (error: unknown): error is AppError => isAppError(error) && error.status === 401;
