import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { startAuth, registerAndLogin, type AuthHarness } from './harness';

let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth({ PUBLIC_BASE_URL: 'https://api.example.test' });
});
afterAll(async () => {
  await h.close();
});

const ISSUER = 'https://api.example.test/api/v1/auth';
const me = (token: string) => h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

/** Signs a token with the service's own active key, with claims a test chooses. */
const forge = async (claims: Record<string, unknown>, options: { iss?: string; aud?: string; exp?: number; kid?: string } = {}) => {
  const key = h.service.keys.active;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'user', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'at+jwt' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? 'galion')
    .setSubject(String(claims.sub ?? '00000000-0000-7000-8000-000000000000'))
    .setJti('forged-jti')
    .setIssuedAt(now - 10)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(key.privateKey);
};

describe('access tokens', () => {
  it('when the token is valid, then it verifies against the published JWKS with the expected claims', async () => {
    const session = await registerAndLogin(h);
    const jwks = (await h.http.get('/api/v1/auth/.well-known/jwks.json').expect(200)).body;
    const { payload, protectedHeader } = await jwtVerify(session.accessToken, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: 'galion',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: h.service.keys.active.kid });
    expect(payload).toMatchObject({ sub: session.id, role: 'user', jti: expect.any(String), sid: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBeGreaterThan(899);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(900);
  });

  it('when the signature is tampered with, then 401 token_invalid', async () => {
    const session = await registerAndLogin(h);
    const [header, payload, signature] = session.accessToken.split('.');
    const flipped = `${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    expect((await me(`${header}.${payload}.${flipped}`).expect(401)).body.error).toBe('token_invalid');
  });

  it('when the payload is changed to claim admin, then 401 token_invalid', async () => {
    const session = await registerAndLogin(h);
    const [header, payload, signature] = session.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    expect((await me(`${header}.${elevated}.${signature}`).expect(401)).body.error).toBe('token_invalid');
  });

  it('when the token says alg none, then 401 token_invalid', async () => {
    const session = await registerAndLogin(h);
    const payload = session.accessToken.split('.')[1];
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    expect((await me(`${header}.${payload}.`).expect(401)).body.error).toBe('token_invalid');
  });

  it('when the token is signed by an unknown key, then 401 token_invalid', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'attacker-key', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience('galion')
      .setSubject('00000000-0000-7000-8000-000000000000')
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    expect((await me(token).expect(401)).body.error).toBe('token_invalid');
  });

  it('when the issuer or audience is wrong, then 401 token_invalid', async () => {
    const session = await registerAndLogin(h);
    expect((await me(await forge({ sub: session.id }, { iss: 'https://evil.example/api/v1/auth' })).expect(401)).body.error).toBe(
      'token_invalid',
    );
    expect((await me(await forge({ sub: session.id }, { aud: 'someone-else' })).expect(401)).body.error).toBe('token_invalid');
    await me(await forge({ sub: session.id })).expect(200);
  });

  it('when the token has expired, then 401 token_expired', async () => {
    const session = await registerAndLogin(h);
    const expired = await forge({ sub: session.id }, { exp: Math.floor(Date.now() / 1000) - 60 });
    const response = await me(expired).expect(401);
    expect(response.body.error).toBe('token_expired');
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('when the role claim is not a known role, then 401 token_invalid', async () => {
    const session = await registerAndLogin(h);
    expect((await me(await forge({ sub: session.id, role: 'root' })).expect(401)).body.error).toBe('token_invalid');
  });

  it('when the Authorization header is not a bearer token, then 401 token_missing', async () => {
    expect((await h.http.get('/api/v1/auth/me').set('Authorization', 'Basic dXNlcjpwYXNz').expect(401)).body.error).toBe('token_missing');
    expect((await me('not a jwt').expect(401)).body.error).toBe('token_missing');
    expect((await me('abc.def').expect(401)).body.error).toBe('token_invalid');
  });
});

describe('access tokens signed with a P-256 key', () => {
  it('when the active key is ES256, then its tokens verify with a standard JOSE library and at auth itself', async () => {
    const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'p256' };
    const p256 = await startAuth({ PUBLIC_BASE_URL: 'https://api.example.test', AUTH_JWT_KEYS: JSON.stringify({ keys: [key] }) });
    try {
      const session = await registerAndLogin(p256);
      const jwks = (await p256.http.get('/api/v1/auth/.well-known/jwks.json').expect(200)).body;
      const { protectedHeader } = await jwtVerify(session.accessToken, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'galion' });
      expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'p256', typ: 'at+jwt' });
      await p256.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.accessToken}`).expect(200);
    } finally {
      await p256.close();
    }
  });
});

describe('discovery', () => {
  it('when a client reads the discovery document, then it points at the JWKS and endpoints under the issuer', async () => {
    const response = await h.http.get('/api/v1/auth/.well-known/openid-configuration').expect(200);
    expect(response.body).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      token_endpoint: `${ISSUER}/login`,
      id_token_signing_alg_values_supported: ['EdDSA'],
    });
  });

  it('when the JWKS is read, then it has only public key material and may be cached', async () => {
    const response = await h.http.get('/api/v1/auth/.well-known/jwks.json').expect(200);
    expect(response.headers['cache-control']).toContain('max-age=');
    for (const key of response.body.keys) {
      expect(key).toMatchObject({ kid: expect.any(String), alg: 'EdDSA', use: 'sig', kty: 'OKP' });
      expect(key).not.toHaveProperty('d');
    }
  });
});
