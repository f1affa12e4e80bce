import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, MemoryStore } from '@galion/kit';
import { RemoteJwks, StoreDenylist, TokenVerifier } from '@galion/tokens';
import { SignJWT } from 'jose';

const ISSUER = 'https://issuer.test/api/v1/auth';

const newKey = (kid: string) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' } };
};

const sign = (key: { kid: string; privateKey: KeyObject }, claims: Record<string, unknown> = {}) =>
  new SignJWT({ role: 'user', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience('galion')
    .setSubject('user-1')
    .setJti(`jti-${Math.random()}`)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);

/** A real HTTP JWKS endpoint whose keys and availability the test controls. */
const jwksServer = async () => {
  const state = { keys: [] as object[], fetches: 0, up: true };
  const server: Server = createServer((_req, res) => {
    state.fetches += 1;
    if (!state.up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return { state, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
};

describe('RemoteJwks with TokenVerifier', () => {
  it('when many tokens are verified, then the JWKS is fetched once', async () => {
    const server = await jwksServer();
    const key = newKey('k1');
    server.state.keys = [key.jwk];
    const verifier = new TokenVerifier({ keys: new RemoteJwks({ url: server.url }), issuer: ISSUER, audience: 'galion' });
    for (let i = 0; i < 20; i += 1) await verifier.verify(await sign(key));
    expect(server.state.fetches).toBe(1);
    await server.close();
  });

  it('when a token has a new kid (rotation), then the JWKS is refetched at once and the token verifies', async () => {
    const server = await jwksServer();
    const oldKey = newKey('old');
    const rotated = newKey('new');
    server.state.keys = [oldKey.jwk];
    const verifier = new TokenVerifier({
      keys: new RemoteJwks({ url: server.url, unknownKidCooldownMs: 0 }),
      issuer: ISSUER,
      audience: 'galion',
    });
    await verifier.verify(await sign(oldKey));
    server.state.keys = [oldKey.jwk, rotated.jwk];
    await expect(verifier.verify(await sign(rotated))).resolves.toMatchObject({ sub: 'user-1' });
    expect(server.state.fetches).toBe(2);
    await server.close();
  });

  it('when unknown kids flood in, then refetches are limited by the cooldown', async () => {
    const server = await jwksServer();
    const known = newKey('known');
    server.state.keys = [known.jwk];
    const verifier = new TokenVerifier({
      keys: new RemoteJwks({ url: server.url, unknownKidCooldownMs: 60_000 }),
      issuer: ISSUER,
      audience: 'galion',
    });
    await verifier.verify(await sign(known));
    for (let i = 0; i < 10; i += 1) {
      await expect(verifier.verify(await sign(newKey(`bogus-${i}`)))).rejects.toMatchObject({ code: 'token_invalid' });
    }
    expect(server.state.fetches).toBeLessThanOrEqual(2);
    await server.close();
  });

  it('when the keys are stale and auth is down, then the cached keys keep verifying', async () => {
    const server = await jwksServer();
    const key = newKey('k1');
    server.state.keys = [key.jwk];
    const verifier = new TokenVerifier({ keys: new RemoteJwks({ url: server.url, ttlMs: 1 }), issuer: ISSUER, audience: 'galion' });
    await verifier.verify(await sign(key));
    server.state.up = false;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(verifier.verify(await sign(key))).resolves.toMatchObject({ sub: 'user-1' });
    await server.close();
  });

  it('when no keys were ever fetched and auth is down, then 503 dependency_unavailable', async () => {
    const server = await jwksServer();
    server.state.up = false;
    const verifier = new TokenVerifier({ keys: new RemoteJwks({ url: server.url }), issuer: ISSUER, audience: 'galion' });
    const failure = await verifier.verify(await sign(newKey('k'))).catch((error: AppError) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).status).toBe(503);
    await server.close();
  });

  it('when a token or its user is on the denylist, then 401 token_revoked', async () => {
    const server = await jwksServer();
    const key = newKey('k1');
    server.state.keys = [key.jwk];
    const denylist = new StoreDenylist(new MemoryStore());
    const verifier = new TokenVerifier({ keys: new RemoteJwks({ url: server.url }), issuer: ISSUER, audience: 'galion', denylist });
    const token = await sign(key);
    const claims = await verifier.verify(token);
    await denylist.revokeToken(claims.jti, claims.exp);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'token_revoked' });
    const other = await sign(key);
    await denylist.revokeUser('user-1', Date.now() / 1000 + 1, 60);
    await expect(verifier.verify(other)).rejects.toMatchObject({ code: 'token_revoked' });
    await server.close();
  });
});
