import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { AccessTokenIssuer, deriveSuccessorToken, hashRefreshToken, newRefreshToken, newRotationNonce } from '../src/domain/tokens';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe('refresh token rotation: the successor', () => {
  test('when the same rotated token is presented again with its stored nonce, then the same successor comes out (the grace window answer)', () => {
    const token = newRefreshToken();
    const nonce = newRotationNonce();

    const first = deriveSuccessorToken(token, nonce);
    const again = deriveSuccessorToken(token, nonce);

    expect(again).toBe(first);
    expect(hashRefreshToken(again)).toBe(hashRefreshToken(first));
  });

  test('when a token is rotated twice with fresh nonces, then the two successors differ', () => {
    const token = newRefreshToken();

    const first = deriveSuccessorToken(token, newRotationNonce());
    const second = deriveSuccessorToken(token, newRotationNonce());

    expect(second).not.toBe(first);
  });

  test('when only the stored nonce is known (a database leak), then another token with it does not give the successor', () => {
    const token = newRefreshToken();
    const nonce = newRotationNonce();
    const successor = deriveSuccessorToken(token, nonce);

    const guessed = [newRefreshToken(), nonce, '', hashRefreshToken(token)].map((other) => deriveSuccessorToken(other, nonce));

    expect(guessed).not.toContain(successor);
  });

  test('when a successor is derived, then it is a new 256-bit base64url token, neither the old token nor its nonce', () => {
    const token = newRefreshToken();
    const nonce = newRotationNonce();

    const successor = deriveSuccessorToken(token, nonce);

    expect(successor).toMatch(BASE64URL);
    expect(Buffer.from(successor, 'base64url')).toHaveLength(32);
    expect([token, nonce]).not.toContain(successor);
  });
});

describe('refresh token rotation: tokens, nonces and stored hashes', () => {
  test('when refresh tokens and nonces are made, then each carries fresh randomness (256 and 128 bits)', () => {
    const tokens = Array.from({ length: 200 }, newRefreshToken);
    const nonces = Array.from({ length: 200 }, newRotationNonce);

    expect(new Set(tokens).size).toBe(200);
    expect(new Set(nonces).size).toBe(200);
    expect(tokens.every((token) => BASE64URL.test(token) && Buffer.from(token, 'base64url').length === 32)).toBe(true);
    expect(nonces.every((nonce) => BASE64URL.test(nonce) && Buffer.from(nonce, 'base64url').length === 16)).toBe(true);
  });

  test('when a token is hashed for storage, then the hash is its SHA-256 in hex, the same every time, and not the token', () => {
    const token = randomBytes(32).toString('base64url');

    const stored = hashRefreshToken(token);

    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(token)).toBe(stored);
    expect(hashRefreshToken(`${token}x`)).not.toBe(stored);
    expect(stored).not.toContain(token);
  });
});

describe('access tokens', () => {
  const issuerUrl = 'https://galion.test/api/v1/auth';

  /** An issuer signing with an Ed25519 key of the test's own, and the JWKS that verifies it. */
  const anIssuer = (ttlSeconds: number) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicJwk: JWK = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'test-key', alg: 'EdDSA', use: 'sig' };
    const active = { kid: 'test-key', alg: 'EdDSA' as const, privateKey, publicJwk };
    const ring = { keys: [active], active, publicJwks: () => ({ keys: [publicJwk] }) };
    const issuer = new AccessTokenIssuer(ring, { issuer: issuerUrl, audience: 'galion', ttlSeconds });
    return { issuer, jwks: createLocalJWKSet({ keys: [publicJwk] }) };
  };

  test('when an access token is issued, then it is an at+jwt of the active key naming the user, role and session, valid for the TTL', async () => {
    const { issuer, jwks } = anIssuer(900);

    const issued = await issuer.issue({ userId: 'user-1', role: 'admin', sessionId: 'family-1' });

    const { payload } = await jwtVerify(issued.token, jwks, { issuer: issuerUrl, audience: 'galion' });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'EdDSA', kid: 'test-key', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'user-1', role: 'admin', sid: 'family-1', jti: issued.jti });
    expect(payload.exp! - Math.floor(payload.iat!)).toBe(900);
    expect(issued.expiresIn).toBe(900);
  });

  test('when two access tokens are issued for one session, then each has its own jti (each can be revoked alone)', async () => {
    const { issuer } = anIssuer(60);
    const subject = { userId: 'user-2', role: 'user' as const, sessionId: 'family-2' };

    const [first, second] = await Promise.all([issuer.issue(subject), issuer.issue(subject)]);

    expect(first.jti).not.toBe(second.jti);
  });
});
