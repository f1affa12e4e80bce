import { createRedis, RedisStore, waitForRedis } from '@galion/kit';
import { startRedis, type RedisHandle } from '@galion/localdeps';
import {
  loginAt,
  newTestStore,
  randomIp,
  startGateway,
  startRealAuth,
  startStubUpstream,
  type GatewayHarness,
  type RealAuth,
  type StubUpstream,
} from './harness';

let authStore: RedisStore;
let auth: RealAuth;
let users: StubUpstream;
let analytics: StubUpstream;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  authStore = await newTestStore();
  [auth, users, analytics] = await Promise.all([startRealAuth(authStore), startStubUpstream('users'), startStubUpstream('analytics')]);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close().catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all([auth.close(), users.close(), analytics.close()]);
  await authStore.close();
});

const LIMITS = { RATE_LIMIT_PER_IP: '3', RATE_LIMIT_PER_USER: '4', RATE_LIMIT_AUTH_PER_IP: '2', RATE_LIMIT_WINDOW_SECONDS: '60' };

/** A gateway on `store` (a fresh key space by default), closed after the test. */
const gateway = async (env: Record<string, string> = {}, store?: RedisStore): Promise<GatewayHarness> => {
  const counters = store ?? (await newTestStore());
  const gw = await startGateway({ auth: auth.url, users: users.url, analytics: analytics.url }, counters, { ...LIMITS, ...env });
  opened.push(gw);
  if (!store) opened.push(counters);
  return gw;
};

describe('per IP', () => {
  it('when an IP sends more anonymous requests than its limit, then 429 rate_limited with Retry-After and RateLimit headers', async () => {
    const gw = await gateway();
    const ip = randomIp();
    for (let i = 0; i < 3; i += 1) {
      const ok = await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
      expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"ip"; r=${2 - i}; t=\\d+$`));
      expect(ok.headers['ratelimit-policy']).toMatch(/^"ip"; q=3; w=60/);
    }
    const limited = await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited', request_id: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await gw.metric('gateway_rate_limited_total', { policy: 'ip' })).toBe(1);
    // Another client is not affected.
    await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', randomIp()).expect(200);
  });

  it('when login is called more often than the auth limit, then the stricter auth policy answers 429 first', async () => {
    const gw = await gateway();
    const ip = randomIp();
    const attempt = () =>
      gw.http.post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email: 'nobody@example.com', password: 'wrong password here' });
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(401);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(limited.headers['ratelimit-policy']).toMatch(/^"auth"; q=2;/);
    expect(await gw.metric('gateway_rate_limited_total', { policy: 'auth' })).toBe(1);
  });

  it('when an IP keeps sending bad tokens, then it is limited per IP too', async () => {
    const gw = await gateway();
    const ip = randomIp();
    for (let i = 0; i < 3; i += 1)
      await gw.http.get('/api/v1/users/me').set('X-Forwarded-For', ip).set('Authorization', 'Bearer nonsense').expect(401);
    await gw.http.get('/api/v1/users/me').set('X-Forwarded-For', ip).set('Authorization', 'Bearer nonsense').expect(429);
  });
});

describe('per user', () => {
  it('when a user sends more than the per-user limit from several IPs, then 429; another user on the same IP passes', async () => {
    const gw = await gateway();
    const [alice, bob] = await Promise.all([loginAt(auth.url), loginAt(auth.url)]);
    const ip = randomIp();
    for (let i = 0; i < 4; i += 1) {
      const ok = await gw.http
        .get('/api/v1/users/me')
        .set('X-Forwarded-For', randomIp())
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(200);
      expect(ok.headers['ratelimit']).toMatch(/^"user"; r=\d+/);
    }
    const limited = await gw.http
      .get('/api/v1/users/me')
      .set('X-Forwarded-For', ip)
      .set('Authorization', `Bearer ${alice.accessToken}`)
      .expect(429);
    expect(limited.body.error).toBe('rate_limited');
    expect(await gw.metric('gateway_rate_limited_total', { policy: 'user' })).toBe(1);
    await gw.http.get('/api/v1/users/me').set('X-Forwarded-For', ip).set('Authorization', `Bearer ${bob.accessToken}`).expect(200);
  });
});

describe('shared across replicas', () => {
  it('when two gateways share Redis, then the second sees the count of the first', async () => {
    const shared = await newTestStore();
    opened.push(shared);
    const [first, second] = await Promise.all([gateway({}, shared), gateway({}, shared)]);
    const ip = randomIp();
    await first.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
    await first.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
    const third = await second.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
    expect(third.headers['ratelimit']).toMatch(/^"ip"; r=0;/);
    await second.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(429);
    await first.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(429);
  });
});

describe('Redis down', () => {
  let redis: RedisHandle;
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    // Gateways and clients first, while their Redis still answers; then the server.
    await Promise.all(opened.splice(0).map((item) => item.close().catch(() => undefined)));
    await redis.stop();
  });

  const gatewayOnOwnRedis = async (env: Record<string, string> = {}) => {
    const client = createRedis(redis.url);
    await waitForRedis(client);
    const store = new RedisStore(client, 'galion:');
    opened.push(store);
    return gateway(env, store);
  };

  it('when Redis goes away with fail-open (the default), then requests pass unlimited and the store-error metric counts them', async () => {
    const gw = await gatewayOnOwnRedis();
    const { accessToken } = await loginAt(auth.url);
    const ip = randomIp();
    await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
    await redis.stop();
    for (let i = 0; i < 5; i += 1) await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip).expect(200);
    // The gateway's denylist check fails open too: the upstream checks revocation itself.
    await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
    expect(await gw.metric('gateway_rate_limit_store_errors_total')).toBeGreaterThanOrEqual(6);
    expect(await gw.metric('gateway_denylist_errors_total')).toBeGreaterThanOrEqual(1);
    await gw.http.get('/readyz').expect(200);
  });

  it('when Redis goes away with RATE_LIMIT_FAIL_OPEN=false, then requests get 503 dependency_unavailable', async () => {
    const gw = await gatewayOnOwnRedis({ RATE_LIMIT_FAIL_OPEN: 'false' });
    // One answer first: the limiters' scripts are loaded by then (on a loaded machine a load still
    // under way when Redis stopped failed too, and was counted beside the request's own error).
    await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', randomIp()).expect(200);
    await redis.stop();
    const response = await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', randomIp()).expect(503);
    expect(response.body.error).toBe('dependency_unavailable');
    expect(await gw.metric('gateway_rate_limit_store_errors_total')).toBe(1);
  });

  it('when Redis comes back, then limits apply again', async () => {
    const gw = await gatewayOnOwnRedis();
    await redis.stop();
    await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', randomIp()).expect(200);
    await redis.start();
    const ip = randomIp();
    let limited = false;
    for (let i = 0; i < 40 && !limited; i += 1) {
      const response = await gw.http.get('/api/v1/users/openapi.json').set('X-Forwarded-For', ip);
      limited = response.status === 429;
      if (!limited) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(limited).toBe(true);
  });
});

describe('a public route that also takes a token (the tracking API, POST /api/v1/analytics/events)', () => {
  const tracking = '/api/v1/analytics/events';

  it('when no token is sent, then it passes to analytics and counts under the per-IP policy', async () => {
    const gw = await gateway();
    const seen = analytics.requests.length;

    const response = await gw.http.post(tracking).set('X-Forwarded-For', randomIp()).send({ events: [{ name: 'x' }] }).expect(200);

    expect(response.headers['ratelimit']).toMatch(/^"ip"; /);
    expect(analytics.requests.length).toBe(seen + 1);
  });

  it('when a valid token is sent, then it is verified and counts per user; a bad token is refused before analytics', async () => {
    const gw = await gateway();
    const user = await loginAt(auth.url);
    const seen = analytics.requests.length;

    const withToken = await gw.http.post(tracking).set('Authorization', `Bearer ${user.accessToken}`).send({ events: [] }).expect(200);
    const badToken = await gw.http.post(tracking).set('Authorization', 'Bearer nonsense').send({ events: [] }).expect(401);

    expect(withToken.headers['ratelimit']).toMatch(/^"user"; /);
    expect(badToken.body.error).toBe('token_invalid');
    expect(analytics.requests.length).toBe(seen + 1);
  });

  it('when its body is over BODY_LIMIT but within its own 1 MB, then it passes; over 1 MB it is refused; other routes keep BODY_LIMIT', async () => {
    const gw = await gateway({ RATE_LIMIT_PER_IP: '100' });
    const ip = randomIp();
    const body = (bytes: number) => JSON.stringify({ events: [{ name: 'x', properties: { pad: 'y'.repeat(bytes) } }] });

    await gw.http.post(tracking).set('X-Forwarded-For', ip).set('Content-Type', 'application/json').send(body(500_000)).expect(200);
    const tooLarge = await gw.http.post(tracking).set('X-Forwarded-For', ip).set('Content-Type', 'application/json').send(body(1_100_000)).expect(413);
    const elsewhere = await gw.http.post('/api/v1/auth/login').set('X-Forwarded-For', ip).set('Content-Type', 'application/json').send(body(500_000)).expect(413);

    expect(tooLarge.body.message).toMatch(/1mb/);
    expect(elsewhere.body.error).toBe('payload_too_large');
  });
});
