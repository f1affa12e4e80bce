import { AppError, isAppError, unauthorized } from '@galion/kit';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, ACCESS_TOKEN_TYPE, ROLES, type AccessClaims, type Role } from './claims.js';
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

export const tokenMissing = () =>
  unauthorized('token_missing', 'This route needs a bearer access token (Authorization: Bearer <token>).', challenge());

/**
 * Verifies Galion access tokens: signature against the auth JWKS, `typ`, algorithm, issuer,
 * audience, expiry, required claims, then the denylist. Each failure is a 401 with its own code.
 */
export class TokenVerifier {
  private readonly cache: VerificationCache | undefined;

  constructor(private readonly options: VerifierOptions) {
    // A signature check costs about as much CPU as the rest of a small request: a client's next
    // requests with the same token skip it. Revocation is never cached.
    this.cache = options.cache && options.cache.maxEntries > 0 ? new VerificationCache((token) => this.verifyUncached(token), options.cache) : undefined;
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
    return this.checkClaims(await this.verifySignature(token));
  }

  private async verifySignature(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.options.keys.keyFor(header), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      });
      return payload;
    } catch (error) {
      if (isAppError(error)) throw error;
      if (error instanceof errors.JWTExpired) {
        throw unauthorized(
          'token_expired',
          'The access token has expired; refresh it.',
          challenge('invalid_token', 'The access token has expired'),
        );
      }
      if (error instanceof errors.JWTClaimValidationFailed) {
        throw invalid(`The token's ${error.claim} claim is not acceptable here.`);
      }
      if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
        throw invalid('The token uses a signing algorithm that is not accepted.');
      }
      if (error instanceof errors.JWSSignatureVerificationFailed) throw invalid('The token signature is not valid.');
      throw invalid('The token is malformed.');
    }
  }

  private checkClaims(payload: JWTPayload): AccessClaims {
    const role = payload.role;
    if (typeof role !== 'string' || !ROLES.includes(role as Role)) throw invalid('The token carries no valid role.');
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
