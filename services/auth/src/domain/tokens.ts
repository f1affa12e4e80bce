import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_TYPE, type Role } from '@galion/tokens';
import { SignJWT } from 'jose';
import type { SigningKeyRing } from './signing-keys.js';

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

/** Signs short-lived access tokens (RFC 9068 `at+jwt`) with the active key. */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly settings: { issuer: string; audience: string; ttlSeconds: number },
  ) {}

  async issue(subject: { userId: string; role: Role; sessionId: string }): Promise<IssuedAccessToken> {
    const { active } = this.keys;
    const jti = randomUUID();
    const issuedAt = Date.now() / 1000;
    const token = await new SignJWT({ role: subject.role, sid: subject.sessionId })
      .setProtectedHeader({ alg: active.alg, kid: active.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(subject.userId)
      .setJti(jti)
      // Millisecond precision, so a revocation and a new login within one second stay ordered.
      .setIssuedAt(issuedAt)
      .setExpirationTime(Math.floor(issuedAt) + this.settings.ttlSeconds)
      .sign(active.privateKey);
    return { token, jti, expiresIn: this.settings.ttlSeconds };
  }
}

/** Opaque refresh tokens: 256 random bits, stored only as a SHA-256 hash. */
export const newRefreshToken = (): string => randomBytes(32).toString('base64url');

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The successor of a rotated refresh token, derived from the token itself and a random nonce
 * stored with it. Within the reuse grace window the same successor can be handed out again
 * (a second tab refreshing at once) without storing any usable token: the nonce alone, or the
 * old token alone, is not enough to compute it.
 */
export const deriveSuccessorToken = (token: string, nonce: string): string => createHmac('sha256', token).update(nonce).digest('base64url');

export const newRotationNonce = (): string => randomBytes(16).toString('base64url');
