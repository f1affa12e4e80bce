import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import type { RedisStore } from '@galion/kit';
import { eventually } from '@galion/localdeps';
import { SignJWT } from 'jose';
import {
  loginAt,
  newTestStore,
  startGateway,
  startRealAuth,
  startStubUpstream,
  type GatewayHarness,
  type RealAuth,
  type StubUpstream,
} from './harness';

let store: RedisStore;
let auth: RealAuth;
let users: StubUpstream;
let analytics: StubUpstream;
let posts: StubUpstream;
let gw: GatewayHarness;
let session: { id: string; accessToken: string; refreshToken: string };

beforeAll(async () => {
  store = await newTestStore();
  [auth, users, analytics, posts] = await Promise.all([
    startRealAuth(store),
    startStubUpstream('users'),
    startStubUpstream('analytics'),
    startStubUpstream('posts'),
  ]);
  gw = await startGateway({ auth: auth.url, users: users.url, analytics: analytics.url, posts: posts.url }, store);
  session = await loginAt(auth.url);
});

afterAll(async () => {
  await gw.close();
  await Promise.all([auth.close(), users.close(), analytics.close(), posts.close()]);
  await store.close();
});

beforeEach(() => {
  users.requests.length = 0;
  analytics.requests.length = 0;
  posts.requests.length = 0;
});

const bearer = () => `Bearer ${session.accessToken}`;

/** The stylesheet and scripts a docs page links to, in order. */
const docsAssetLinks = (html: string): string[] =>
  [...html.matchAll(/<(?:link rel="stylesheet" href|script src)="([^"]+)"/g)].map((m) => m[1]!);

/** A GET whose path is sent exactly as written (a URL, as fetch and supertest take, would resolve `..` first). */
const rawGet = (base: string, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    get({ hostname, port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });

describe('routing by prefix', () => {
  it('when a request goes to /api/v1/users/…, then the users upstream gets the same path and query, and analytics nothing', async () => {
    const response = await gw.http.get('/api/v1/users/some/deep/path?q=a%20b&page=2').set('Authorization', bearer()).expect(200);
    expect(response.body).toMatchObject({ upstream: 'users', url: '/api/v1/users/some/deep/path?q=a%20b&page=2' });
    expect(users.requests.map((r) => r.url)).toEqual(['/api/v1/users/some/deep/path?q=a%20b&page=2']);
    expect(analytics.requests).toHaveLength(0);
  });

  it('when a request goes to /api/v1/analytics/…, then the analytics upstream answers it', async () => {
    const response = await gw.http.get('/api/v1/analytics/summary').set('Authorization', bearer()).expect(200);
    expect(response.body.upstream).toBe('analytics');
    expect(users.requests).toHaveLength(0);
  });

  it('when auth routes are called through the gateway, then the real auth service answers them', async () => {
    const jwks = await gw.http.get('/api/v1/auth/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys[0].kid).toBe(auth.service.keys.active.kid);
    const me = await gw.http.get('/api/v1/auth/me').set('Authorization', bearer()).expect(200);
    expect(me.body.id).toBe(session.id);
  });

  it('when register, login and refresh are called without a token, then they pass to auth', async () => {
    const user = { email: `open.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'Open' };
    await gw.http.post('/api/v1/auth/register').send(user).expect(201);
    const login = await gw.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
    const refreshed = await gw.http.post('/api/v1/auth/refresh').send({ refresh_token: login.body.refresh_token }).expect(200);
    expect(refreshed.body.access_token).toEqual(expect.any(String));
  });

  it('when a JSON body is posted, then it reaches the upstream byte for byte', async () => {
    const body = JSON.stringify({ name: 'Zoë', nested: { list: [1, 2, 3] } });
    await gw.http
      .post('/api/v1/users/stub/things')
      .set('Authorization', bearer())
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(200);
    expect(users.requests[0]).toMatchObject({ method: 'POST', body });
    expect(users.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('when a path only looks like a service prefix, then the gateway answers 404 and no upstream is called', async () => {
    const response = await gw.http.get('/api/v1/usersx/me').set('Authorization', bearer()).expect(404);
    expect(response.body.error).toBe('not_found');
    await gw.http.get('/api/v1/nothing').expect(404);
    expect(users.requests).toHaveLength(0);
    expect(analytics.requests).toHaveLength(0);
  });
});

describe('methods no route serves', () => {
  it('when a path the services serve is called with a method none of its routes takes, then the gateway answers 405 with Allow, with or without a token, and the upstream is not called', async () => {
    const before = users.requests.length;

    const anonymous = await gw.http.put('/api/v1/users/me').send({ bio: 'x' });
    const withBadToken = await gw.http.post('/api/v1/users/me').set('Authorization', 'Bearer not.a.token');
    const onCredentials = await gw.http.get('/api/v1/auth/login');

    for (const response of [anonymous, withBadToken]) {
      expect({ status: response.status, error: response.body.error, allow: response.headers.allow }).toEqual({
        status: 405,
        error: 'method_not_allowed',
        allow: 'GET, HEAD, PATCH, DELETE',
      });
    }
    expect({ status: onCredentials.status, allow: onCredentials.headers.allow }).toEqual({ status: 405, allow: 'POST' });
    expect(anonymous.body.request_id).toEqual(expect.any(String));
    expect(users.requests.length).toBe(before);
  });
});

describe('token verification at the gateway', () => {
  it('when a protected route has no token, then 401 token_missing and the upstream is never called', async () => {
    const response = await gw.http.get('/api/v1/users/me').expect(401);
    expect(response.body).toMatchObject({ error: 'token_missing', request_id: expect.any(String) });
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    await gw.http.get('/api/v1/analytics/events').expect(401);
    expect(users.requests).toHaveLength(0);
    expect(analytics.requests).toHaveLength(0);
  });

  it('when the token is malformed, tampered with or signed by an unknown key, then 401 token_invalid before the upstream', async () => {
    const [header, payload, signature] = session.accessToken.split('.');
    const tampered = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'attacker', typ: 'at+jwt' })
      .setIssuer('http://localhost:8080/api/v1/auth')
      .setAudience('galion')
      .setSubject(session.id)
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    for (const token of ['not-a-jwt', tampered, forged]) {
      const response = await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${token}`).expect(401);
      expect(response.body.error).toBe('token_invalid');
    }
    expect(users.requests).toHaveLength(0);
  });

  it('when a token was revoked by logout, then the gateway refuses it with token_revoked', async () => {
    const other = await loginAt(auth.url);
    await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${other.accessToken}`).expect(200);
    await gw.http
      .post('/api/v1/auth/logout')
      .set('Authorization', `Bearer ${other.accessToken}`)
      .send({ refresh_token: other.refreshToken })
      .expect(204);
    // The gateway's mirror hears of it on a subscription of its own, a moment after auth answered.
    await eventually(
      async () => (await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${other.accessToken}`)).status === 401,
      5_000,
      'the revocation to reach the gateway',
    );
    users.requests.length = 0;
    const response = await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${other.accessToken}`).expect(401);
    expect(response.body.error).toBe('token_revoked');
    expect(users.requests).toHaveLength(0);
    // Answered from the gateway's mirror of the denylist (-1 would mean it asked Redis).
    expect(await gw.metric('gateway_denylist_mirror_entries')).toBeGreaterThanOrEqual(1);
  });

  it('when auth/me, logout or password are called without a token, then the gateway answers 401 itself', async () => {
    for (const [method, path] of [
      ['get', '/api/v1/auth/me'],
      ['post', '/api/v1/auth/logout'],
      ['post', '/api/v1/auth/password'],
    ] as const) {
      const response = await gw.http[method](path).expect(401);
      expect(response.body.error).toBe('token_missing');
    }
  });

  it('when the token is valid, then the upstream gets the Authorization header unchanged', async () => {
    await gw.http.get('/api/v1/users/me').set('Authorization', bearer()).expect(200);
    expect(users.requests[0]!.headers.authorization).toBe(bearer());
  });
});

describe('headers to the upstream', () => {
  it('when a client sends internal identity headers, then the upstream sees none of them', async () => {
    await gw.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer())
      .set('X-User-Id', 'someone-else')
      .set('X-User-Role', 'admin')
      .set('X-Forwarded-User', 'root')
      .set('X-Auth-Subject', 'root')
      .set('X-Auth-Request-Email', 'root@example.com')
      .set('X-Real-IP', '10.0.0.1')
      .set('Forwarded', 'for=10.0.0.1')
      .set('X-Internal-Token', 'secret')
      .expect(200);
    const seen = Object.keys(users.requests[0]!.headers);
    for (const name of [
      'x-user-id',
      'x-user-role',
      'x-forwarded-user',
      'x-auth-subject',
      'x-auth-request-email',
      'x-real-ip',
      'forwarded',
      'x-internal-token',
    ]) {
      expect(seen).not.toContain(name);
    }
  });

  it('when the request came through a trusted proxy, then X-Forwarded-For/Proto/Host carry the client as the gateway resolved it', async () => {
    await gw.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer())
      .set('X-Forwarded-For', '198.51.100.7, 192.0.2.44')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'api.example.com')
      .expect(200);
    const headers = users.requests[0]!.headers;
    // One trusted hop (TRUST_PROXY=1): the client is the last address, the spoofable rest is dropped.
    expect(headers['x-forwarded-for']).toBe('192.0.2.44');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('api.example.com');
  });

  it('when a client sends an X-Request-ID, then the upstream sees the same id the client gets back', async () => {
    const response = await gw.http.get('/api/v1/users/me').set('Authorization', bearer()).set('X-Request-ID', 'client-req-42').expect(200);
    expect(response.headers['x-request-id']).toBe('client-req-42');
    expect(users.requests[0]!.headers['x-request-id']).toBe('client-req-42');
  });

  it('when no or an unsafe X-Request-ID is sent, then the upstream sees the id the gateway generated and returned', async () => {
    const response = await gw.http
      .get('/api/v1/users/me')
      .set('Authorization', bearer())
      .set('X-Request-ID', 'bad id "quoted"')
      .expect(200);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(users.requests[0]!.headers['x-request-id']).toBe(response.headers['x-request-id']);
  });

  it('when a valid traceparent is sent, then it reaches the upstream; an invalid one is replaced by a valid one', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await gw.http.get('/api/v1/users/me').set('Authorization', bearer()).set('traceparent', traceparent).expect(200);
    expect(users.requests[0]!.headers.traceparent).toBe(traceparent);
    await gw.http.get('/api/v1/users/me').set('Authorization', bearer()).set('traceparent', 'garbage').expect(200);
    expect(users.requests[1]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });
});

describe('body size limit', () => {
  it('when Content-Length is over BODY_LIMIT, then 413 payload_too_large and the upstream is not called', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(200 * 1024) });
    const response = await gw.http
      .post('/api/v1/users/stub/things')
      .set('Authorization', bearer())
      .set('Content-Type', 'application/json')
      .send(big)
      .expect(413);
    expect(response.body.error).toBe('payload_too_large');
    expect(users.requests).toHaveLength(0);
  });

  it('when a route declares its own limit (a post: 1280kb), then a body over BODY_LIMIT within it passes, with a token; over it, 413', async () => {
    const post = (bytes: number) =>
      gw.http
        .patch('/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')
        .set('Authorization', bearer())
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ body: 'é'.repeat(bytes / 2) }));

    await post(1_000 * 1024).expect(200);
    const tooLarge = await post(1_400 * 1024).expect(413);

    expect(tooLarge.body.message).toMatch(/1280kb/);
    expect(posts.requests).toHaveLength(1);
  });

  it('when a chunked body grows over the limit, then 413 and the upstream is not called; a small one passes whole', async () => {
    const send = (size: number) =>
      fetch(`${gw.url}/api/v1/users/stub/things`, {
        method: 'PUT',
        headers: { authorization: bearer(), 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`"${'y'.repeat(size)}"`));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    const tooBig = await send(150 * 1024);
    expect(tooBig.status).toBe(413);
    expect(users.requests).toHaveLength(0);
    const small = await send(1000);
    expect(small.status).toBe(200);
    expect(users.requests[0]!.body).toBe(`"${'y'.repeat(1000)}"`);
  });
});

describe('OpenAPI and docs', () => {
  it('when the merged document is asked for, then it has the paths of every service and keeps clashing schemas apart', async () => {
    const doc = (await gw.http.get('/api/v1/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/auth/me', '/api/v1/users/me', '/api/v1/analytics/me']),
    );
    expect(doc['x-galion-services']).toEqual({
      auth: 'included',
      users: 'included',
      analytics: 'included',
      posts: 'included',
      feed: 'included',
      media: 'included',
    });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // users' Thing and analytics' Thing differ: the later one is renamed and its $refs follow.
    const analyticsRef = doc.paths['/api/v1/analytics/me'].get.responses['200'].content['application/json'].schema.$ref;
    expect(analyticsRef).toBe('#/components/schemas/AnalyticsThing');
    expect(doc.components.schemas.AnalyticsThing.properties).toHaveProperty('analytics_field');
    expect(doc.components.schemas.Thing.properties).toHaveProperty('users_field');
  });

  it('when the docs page is asked for, then it is HTML under a strict CSP that loads only its own scripts and stylesheet, none inline', async () => {
    const response = await gw.http.get('/docs').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    const csp = response.headers['content-security-policy'];
    expect(csp).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(response.text).not.toMatch(/<script>|<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    expect(docsAssetLinks(response.text)).toEqual([
      expect.stringMatching(/^\/docs\/assets\/swagger-ui\.[0-9a-f]{12}\.css$/),
      expect.stringMatching(/^\/docs\/assets\/docs\.[0-9a-f]{12}\.css$/),
      expect.stringMatching(/^\/docs\/assets\/swagger-ui-bundle\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^\/docs\/assets\/docs\.[0-9a-f]{12}\.js$/),
    ]);
  });

  it("when the page's files are asked for, then they are Swagger UI's own files and the initializer, with their content types, cached for good", async () => {
    const [stylesheet, ownStylesheet, bundle, initializer] = docsAssetLinks((await gw.http.get('/docs').expect(200)).text);
    const swaggerUi = dirname(require.resolve('swagger-ui-dist/package.json'));

    const css = await gw.http.get(stylesheet!).expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(css.text).toBe(readFileSync(join(swaggerUi, 'swagger-ui.css'), 'utf8'));
    const own = await gw.http.get(ownStylesheet!).expect(200);
    expect(own.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(own.text).toContain('.swagger-ui');

    const js = await gw.http.get(bundle!).expect(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.text).toBe(readFileSync(join(swaggerUi, 'swagger-ui-bundle.js'), 'utf8'));

    const init = await gw.http.get(initializer!).expect(200);
    expect(init.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(init.text).toContain('SwaggerUIBundle(');
    expect(init.text).toContain('url: "/api/v1/openapi.json"');

    const head = await gw.http.head(bundle!).expect(200);
    expect(head.headers['content-length']).toBe(js.headers['content-length']);
  });

  it.each([
    '/docs/assets/../package.json',
    '/docs/assets/..%2Fpackage.json',
    '/docs/assets/%2e%2e/%2e%2e/services/gateway/package.json',
    '/docs/assets/%2e%2e%2f%2e%2e%2fservices%2fgateway%2fpackage.json',
    '/docs/assets/swagger-ui-bundle.js.map',
  ])('when a path outside the served files is asked for (%s), then it is 404 not_found', async (path) => {
    const response = await rawGet(gw.url, path);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'not_found' });
  });

  it('when an unknown or unversioned asset is asked for, then it is 404, and /docs/assets itself lists nothing', async () => {
    for (const path of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/nothing.0123456789ab.js', '/docs/assets/', '/docs/assets']) {
      const response = await gw.http.get(path);
      expect([path, response.status, response.body.error]).toEqual([path, 404, 'not_found']);
    }
  });
});

describe('probes and metrics', () => {
  it('when every upstream is up, then /readyz is 200 with a check per upstream', async () => {
    const ready = await gw.http.get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ auth: 'ok', users: 'ok', analytics: 'ok', posts: 'ok', feed: 'ok', media: 'ok' });
    await gw.http.get('/livez').expect(200);
  });

  it('when requests were proxied, then /metrics has the upstream histogram by upstream and status and the breaker gauge', async () => {
    await gw.http.get('/api/v1/users/status/404').set('Authorization', bearer()).expect(404);
    const text = (await gw.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(/gateway_upstream_request_duration_seconds_count\{upstream="users",status_code="404"\} [1-9]/);
    expect(text).toMatch(/gateway_circuit_breaker_state\{upstream="users"\} 0/);
    expect(text).toContain('http_server_request_duration_seconds_bucket');
    expect(text).toContain('gateway_rate_limit_store_errors_total');
  });
});
