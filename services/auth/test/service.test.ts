import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@galion/kit';
import { loadAuthConfig } from '../src/config';
import { startAuth, type AuthHarness } from './harness';

describe('configuration', () => {
  it('when DATABASE_URL is missing, then start-up fails naming it', () => {
    expect(() => loadAuthConfig({ AUTH_GENERATE_SIGNING_KEY: 'true' })).toThrow(/DATABASE_URL/);
  });

  it('when a number is not a number, then the message names the variable', () => {
    expect(() =>
      loadAuthConfig({
        DATABASE_URL: 'postgres://localhost/auth',
        AUTH_GENERATE_SIGNING_KEY: 'true',
        AUTH_ACCESS_TOKEN_TTL_SECONDS: 'soon',
      }),
    ).toThrow(/AUTH_ACCESS_TOKEN_TTL_SECONDS: must be a whole number/);
  });

  it('when no signing key is configured, then the error says how to give one', () => {
    expect(() => loadAuthConfig({ DATABASE_URL: 'postgres://localhost/auth' })).toThrow(ConfigError);
    expect(() => loadAuthConfig({ DATABASE_URL: 'postgres://localhost/auth' })).toThrow(/AUTH_JWT_KEYS_FILE/);
  });

  it('when only the admin email is given, then the admin password is named as missing', () => {
    expect(() =>
      loadAuthConfig({
        DATABASE_URL: 'postgres://localhost/auth',
        AUTH_GENERATE_SIGNING_KEY: 'true',
        AUTH_ADMIN_EMAIL: 'root@example.com',
      }),
    ).toThrow(/AUTH_ADMIN_PASSWORD/);
  });

  describe('mail', () => {
    const base = { DATABASE_URL: 'postgres://localhost/auth', AUTH_GENERATE_SIGNING_KEY: 'true' };

    it('when an SMTP host is given without a From address, then AUTH_MAIL_FROM is named', () => {
      expect(() => loadAuthConfig({ ...base, AUTH_SMTP_HOST: 'smtp.example.com' })).toThrow(
        /AUTH_MAIL_FROM: AUTH_SMTP_HOST needs AUTH_MAIL_FROM/,
      );
    });

    it('when both SMTP and a webhook are given, then start-up refuses the pair', () => {
      expect(() =>
        loadAuthConfig({
          ...base,
          AUTH_SMTP_HOST: 'smtp.example.com',
          AUTH_MAIL_FROM: 'a@example.com',
          AUTH_MAIL_WEBHOOK_URL: 'https://hook.example.com',
        }),
      ).toThrow(/AUTH_SMTP_HOST: set AUTH_SMTP_HOST or AUTH_MAIL_WEBHOOK_URL, not both/);
    });

    it('when the TLS mode or the From address is malformed, then each is named', () => {
      expect(() =>
        loadAuthConfig({ ...base, AUTH_SMTP_HOST: 'smtp.example.com', AUTH_MAIL_FROM: 'a@example.com', AUTH_SMTP_TLS: 'ssl' }),
      ).toThrow(/AUTH_SMTP_TLS/);
      expect(() => loadAuthConfig({ ...base, AUTH_SMTP_HOST: 'smtp.example.com', AUTH_MAIL_FROM: 'Galion <nobody>' })).toThrow(
        /AUTH_MAIL_FROM: must be an address/,
      );
    });

    it('when SMTP is configured, then the settings come out as given with the defaults filled in', () => {
      const config = loadAuthConfig({
        ...base,
        AUTH_SMTP_HOST: 'smtp.example.com',
        AUTH_MAIL_FROM: 'Galion <no-reply@example.com>',
        AUTH_SMTP_USER: 'galion',
        AUTH_SMTP_PASSWORD: 'pw',
      });

      expect(config.mail).toEqual({
        webhookUrl: undefined,
        smtp: {
          host: 'smtp.example.com',
          port: 587,
          tls: 'starttls',
          user: 'galion',
          password: 'pw',
          from: 'Galion <no-reply@example.com>',
        },
        maxAttempts: 6,
        baseDelayMs: 2000,
        maxDelayMs: 300000,
        maxQueued: 1000,
      });
    });
  });
});

describe('signing keys', () => {
  it('when two keys are configured, then the active one signs and both verify (rotation)', async () => {
    const oldKey = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'old' };
    const newKey = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'new' };
    const h = await startAuth({ AUTH_JWT_KEYS: JSON.stringify({ keys: [oldKey, newKey] }), AUTH_JWT_ACTIVE_KID: 'new' });
    try {
      const jwks = (await h.http.get('/api/v1/auth/.well-known/jwks.json').expect(200)).body;
      expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual(['old', 'new']);
      expect(h.service.keys.active.kid).toBe('new');
    } finally {
      await h.close();
    }
  });
});

describe('admin bootstrap', () => {
  let h: AuthHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('when the service starts twice with the same admin, then one admin account exists', async () => {
    const admin = { AUTH_ADMIN_EMAIL: 'Root@Example.com', AUTH_ADMIN_PASSWORD: 'bootstrap passphrase' };
    h = await startAuth(admin);
    const again = await startAuth(admin, { databaseUrl: h.env.DATABASE_URL! });
    await again.close();
    const rows = await h.db('accounts').where({ email: 'root@example.com' });
    expect(rows).toHaveLength(1);
    expect(rows[0].role).toBe('admin');
    const login = await h.http.post('/api/v1/auth/login').send({ email: 'root@example.com', password: 'bootstrap passphrase' }).expect(200);
    const me = await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${login.body.access_token}`).expect(200);
    expect(me.body.role).toBe('admin');
  });
});

describe('the HTTP surface', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuth({ CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('when probes are called, then livez, readyz and metrics answer', async () => {
    await h.http.get('/livez').expect(200, { status: 'alive' });
    const ready = await h.http.get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok' });
    const metrics = await h.http.get('/metrics').expect(200);
    expect(metrics.text).toContain('http_server_request_duration_seconds_bucket');
    expect(metrics.text).toContain('process_cpu_seconds_total');
    expect(metrics.text).toContain('db_pool_connections_max');
  });

  it('when a route is unknown, then 404; when the method is wrong, then 405 with Allow', async () => {
    expect((await h.http.get('/api/v1/auth/nope').expect(404)).body.error).toBe('not_found');
    const wrong = await h.http.delete('/api/v1/auth/register').expect(405);
    expect(wrong.body.error).toBe('method_not_allowed');
    expect(wrong.headers.allow).toBe('POST');
  });

  it('when a sane request id is sent, then it is echoed; an unsafe one is replaced', async () => {
    const kept = await h.http.get('/api/v1/auth/nope').set('X-Request-ID', 'req-123_abc');
    expect(kept.headers['x-request-id']).toBe('req-123_abc');
    expect(kept.body.request_id).toBe('req-123_abc');
    const replaced = await h.http.get('/livez').set('X-Request-ID', 'bad id\twith "quotes"');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when a browser origin is allowed, then CORS headers are sent; otherwise not', async () => {
    const allowed = await h.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await h.http
      .options('/api/v1/auth/login')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when any response is sent, then security headers are on it', async () => {
    const response = await h.http.get('/livez');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('when the OpenAPI document is asked for, then it describes every auth route', async () => {
    const doc = (await h.http.get('/api/v1/auth/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/register',
        '/api/v1/auth/login',
        '/api/v1/auth/refresh',
        '/api/v1/auth/logout',
        '/api/v1/auth/me',
      ]),
    );
    expect(doc.components.schemas.RegisterRequest.required).toEqual(expect.arrayContaining(['email', 'password', 'name']));
  });

  it('when Postgres is unreachable, then readiness fails and requests get 503, not 500', async () => {
    const broken = await startAuth({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', MIGRATE_ON_START: 'false' });
    try {
      const ready = await broken.http.get('/readyz').expect(503);
      expect(ready.body.checks.postgres).toMatch(/failing/);
      const response = await broken.http
        .post('/api/v1/auth/register')
        .send({ email: 'x@example.com', password: 'long enough pass', name: 'X' });
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('dependency_unavailable');
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});
