import { generateKeyPairSync } from 'node:crypto';
import { MemoryStore } from '@galion/kit';
import { exportJWK, SignJWT } from 'jose';
import { StaticKeySource, StoreDenylist, TokenVerifier, VerificationCache, type AccessClaims } from '@galion/tokens';

describe('verification cache', () => {
  const claimsFor = (token: string, exp: number): AccessClaims => ({
    sub: token,
    role: 'user',
    jti: token,
    iat: 0,
    exp,
    iss: 'i',
    aud: 'galion',
  });

  it('when a token was verified, then it is not verified again until the max age; then it is', async () => {
    let now = 0;
    const verified: string[] = [];
    const cache = new VerificationCache(
      async (token: string) => (verified.push(token), claimsFor(token, 3_600)),
      { maxEntries: 10, maxAgeMs: 60_000 },
      () => now,
    );
    await cache.verify('a');
    await cache.verify('a');
    expect(verified).toEqual(['a']);
    now = 60_000;
    await cache.verify('a');
    expect(verified).toEqual(['a', 'a']);
  });

  it('when a token expires before the max age, then its entry ends with it; a full cache drops its oldest entry', async () => {
    let now = 0;
    const verified: string[] = [];
    const cache = new VerificationCache(
      async (token: string) => (verified.push(token), claimsFor(token, 10)),
      { maxEntries: 2, maxAgeMs: 60_000 },
      () => now,
    );
    await cache.verify('a');
    now = 10_000;
    await cache.verify('a');
    expect(verified).toEqual(['a', 'a']);
    await cache.verify('b');
    await cache.verify('c');
    expect(cache.size).toBe(2);
    await cache.verify('a');
    expect(verified).toEqual(['a', 'a', 'b', 'c', 'a']);
  });

  it('when verification fails, then nothing is cached and the error goes to the caller', async () => {
    const cache = new VerificationCache(
      async () => {
        throw new Error('bad token');
      },
      { maxEntries: 10, maxAgeMs: 60_000 },
    );
    await expect(cache.verify('x')).rejects.toThrow('bad token');
    expect(cache.size).toBe(0);
  });

  it('when maxEntries is 0, then nothing is kept and every call verifies', async () => {
    const verified: string[] = [];
    const cache = new VerificationCache(
      async (token: string) => (verified.push(token), claimsFor(token, 3_600)),
      { maxEntries: 0, maxAgeMs: 60_000 },
      () => 0,
    );

    await cache.verify('a');
    await cache.verify('a');

    expect(verified).toEqual(['a', 'a']);
    expect(cache.size).toBe(0);
  });

  it('when an entry has aged out and the token no longer verifies (its key withdrawn), then the error goes to the caller and the stale entry is gone', async () => {
    let now = 0;
    let keyWithdrawn = false;
    const cache = new VerificationCache(
      async (token: string) => {
        if (keyWithdrawn) throw new Error('no key with this kid');
        return claimsFor(token, 3_600);
      },
      { maxEntries: 10, maxAgeMs: 60_000 },
      () => now,
    );
    await cache.verify('a');

    keyWithdrawn = true;
    now = 60_000;

    await expect(cache.verify('a')).rejects.toThrow('no key with this kid');
    expect(cache.size).toBe(0);
  });
});

describe('a verifier with the cache', () => {
  const issuer = 'https://galion.test/api/v1/auth';
  const setUp = async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    const store = new MemoryStore();
    const denylist = new StoreDenylist(store);
    const verifier = new TokenVerifier({
      keys: await StaticKeySource.fromJwks({ keys: [jwk] }),
      issuer,
      audience: 'galion',
      denylist,
      cache: { maxEntries: 10, maxAgeMs: 60_000 },
    });
    const token = await new SignJWT({ role: 'user', sid: 's1' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience('galion')
      .setSubject('user-1')
      .setJti('jti-1')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(privateKey);
    return { verifier, denylist, token, store };
  };

  it('when a cached token is revoked, then the next request with it is refused all the same', async () => {
    const { verifier, denylist, token, store } = await setUp();
    const claims = await verifier.verify(token);
    await verifier.verify(token);

    await denylist.revokeToken(claims.jti, claims.exp);

    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, code: 'token_revoked' });
    await store.close();
  });

  it("when all of a user's sessions are ended after their token was cached, then that token is refused all the same", async () => {
    const { verifier, denylist, token, store } = await setUp();
    const claims = await verifier.verify(token);

    await denylist.revokeUser(claims.sub, claims.iat, 3_600);

    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, code: 'token_revoked' });
    await store.close();
  });
});
