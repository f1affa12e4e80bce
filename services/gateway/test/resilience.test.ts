import { Agent, createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createLogger, Registry } from '@galion/kit';
import { eventually, freePort, startTestServer } from '@galion/localdeps';
import express from 'express';
import { createGatewayMetrics } from '../src/metrics';
import { createUpstreamProxy } from '../src/proxy';
import { deadUpstreamUrl, gatewayPerTest, startBlackhole, startFlakyUpstream, startStubUpstream } from './harness';

const suite = gatewayPerTest();
const gatewayFor = suite.gatewayFor;
const stub = async (name: string) => suite.closeAfterTest(await startStubUpstream(name));

describe('upstream down', () => {
  it('when the upstream refuses connections, then 503 upstream_unavailable comes fast', async () => {
    const gw = await gatewayFor(await deadUpstreamUrl());
    const started = Date.now();
    const response = await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`).expect(503);
    // Far below any timeout: a refused connection is known at once.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(response.body).toMatchObject({ error: 'upstream_unavailable', request_id: expect.any(String) });
    expect(response.headers['retry-after']).toBeDefined();
    expect(await gw.metric('gateway_upstream_request_duration_seconds_count', { upstream: 'users', status_code: '503' })).toBe(1);
  });

  it('when an upstream is down, then /readyz is 503 and names it', async () => {
    const gw = await gatewayFor(await deadUpstreamUrl());
    const ready = await gw.http.get('/readyz').expect(503);
    expect(ready.body.checks.users).toMatch(/failing/);
    expect(ready.body.checks.auth).toBe('ok');
  });
});

describe('retry on connection failure', () => {
  it('when the first connection breaks on a GET, then the gateway retries once and the client gets the answer', async () => {
    const flaky = await startFlakyUpstream('users', 1);
    suite.closeAfterTest(flaky);
    const gw = await gatewayFor(flaky.url);
    const response = await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`).expect(200);
    expect(response.body.upstream).toBe('users');
    expect(flaky.dropped()).toBe(1);
    expect(flaky.requests).toHaveLength(1);
    expect(await gw.metric('gateway_upstream_retries_total', { upstream: 'users' })).toBe(1);
  });

  it('when the first connection breaks on a POST, then it is not retried and the client gets 502', async () => {
    const flaky = await startFlakyUpstream('users', 1);
    suite.closeAfterTest(flaky);
    const gw = await gatewayFor(flaky.url);
    const response = await gw.http.post('/api/v1/users/stub/things').set('Authorization', `Bearer ${suite.token}`).send({ a: 1 }).expect(502);
    expect(response.body.error).toBe('upstream_error');
    expect(flaky.requests).toHaveLength(0);
    expect(await gw.metric('gateway_upstream_retries_total', { upstream: 'users' })).toBe(0);
  });

  it('when a PUT with a body hits a broken connection, then the retry sends the same body', async () => {
    const flaky = await startFlakyUpstream('users', 1);
    suite.closeAfterTest(flaky);
    const gw = await gatewayFor(flaky.url);
    await gw.http.put('/api/v1/users/stub/things/1').set('Authorization', `Bearer ${suite.token}`).send({ name: 'same body' }).expect(200);
    expect(flaky.requests).toHaveLength(1);
    expect(JSON.parse(flaky.requests[0]!.body)).toEqual({ name: 'same body' });
  });

  it('when every pooled connection went stale at once (the upstream pod shut down), then the retry opens a new connection and the GET succeeds', async () => {
    // An upstream whose connections opened before `stale` break on their next request, as the
    // idle sockets to a pod that has just exited do; connections opened after it answer.
    let stale = false;
    const old = new Set<Socket>();
    const server: Server = createServer((req, res) => {
      if (stale && old.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      res.setHeader('content-type', 'application/json');
      // Slow enough that the warm-up's requests overlap and open sockets of their own.
      setTimeout(() => res.end(JSON.stringify({ upstream: 'users' })), 50);
    });
    server.on('connection', (socket) => {
      if (!stale) old.add(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    suite.closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const gw = await gatewayFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const get = () => gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`);
    await Promise.all([get().expect(200), get().expect(200), get().expect(200)]);
    expect(old.size).toBeGreaterThanOrEqual(2);
    stale = true;

    const response = await get().expect(200);

    expect(response.body.upstream).toBe('users');
    expect(await gw.metric('gateway_upstream_retries_total', { upstream: 'users' })).toBe(1);
  });

  it('when both attempts of a GET break, then the client gets 502 after exactly one retry', async () => {
    const flaky = await startFlakyUpstream('users', 2);
    suite.closeAfterTest(flaky);
    const gw = await gatewayFor(flaky.url);
    await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`).expect(502);
    expect(flaky.dropped()).toBe(2);
    expect(await gw.metric('gateway_upstream_retries_total', { upstream: 'users' })).toBe(1);
  });
});

describe('connections that do not open', () => {
  /**
   * The proxy alone, in front of `upstreamUrl`, over a pool whose connections all go to `poolPort`
   * instead (a pod that is gone): its first attempt fails there, and the retry, on a connection
   * of its own, reaches the upstream.
   */
  const proxyOverPoolTo = async (upstreamUrl: string, poolPort: number) => {
    const agent = new Agent({ keepAlive: true });
    agent.createConnection = () => connect(poolPort, '127.0.0.1');
    const registry = new Registry();
    const app = express();
    app.use(
      createUpstreamProxy({
        upstream: { name: 'users', url: upstreamUrl, prefix: '/api/v1/users', timeoutMs: 10_000, connectTimeoutMs: 300, maxInFlight: 0 },
        agent,
        breaker: undefined,
        metrics: createGatewayMetrics(registry, { breakerStates: () => ({}), denylistMirrorEntries: () => -1 }),
        logger: createLogger({ service: 'test', level: 'silent' }),
      }),
    );
    const server = suite.closeAfterTest(await startTestServer(app));
    const retries = async () => (await registry.getSingleMetric('gateway_upstream_retries_total')!.get()).values[0]?.value;
    return { url: server.url, retries, close: async () => agent.destroy() };
  };

  it('when the connection of a POST is refused, then the POST goes once more on a new connection, with its whole body, and is answered', async () => {
    const users = await stub('users');
    const proxy = await proxyOverPoolTo(users.url, await freePort());

    const response = await fetch(`${proxy.url}/api/v1/users/stub/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'once' }) });

    expect(response.status).toBe(200);
    expect(users.requests.map((r) => [r.method, r.body])).toEqual([['POST', '{"name":"once"}']]);
    expect(await proxy.retries()).toBe(1);
    await proxy.close();
  });

  it('when the connection of a PATCH does not open within the connect timeout, then the PATCH goes once more on a new connection and is answered, long before the response timeout', async () => {
    const users = await stub('users');
    const blackhole = suite.closeAfterTest(await startBlackhole());
    const proxy = await proxyOverPoolTo(users.url, Number(new URL(blackhole.url).port));
    const started = Date.now();

    const response = await fetch(`${proxy.url}/api/v1/users/me`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bio: 'sent once' }) });

    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(users.requests.map((r) => [r.method, r.body])).toEqual([['PATCH', '{"bio":"sent once"}']]);
    expect(await proxy.retries()).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(5_000);
    await proxy.close();
  });

  it('when no connection to the upstream opens, then the client gets 503 upstream_unavailable after two connect timeouts, not the response timeout', async () => {
    const blackhole = suite.closeAfterTest(await startBlackhole());
    const gw = await gatewayFor(blackhole.url, { UPSTREAM_CONNECT_TIMEOUT_MS: '400', USERS_UPSTREAM_TIMEOUT_MS: '20000' });
    const started = Date.now();

    const response = await gw.http.post('/api/v1/users/stub/things').set('Authorization', `Bearer ${suite.token}`).send({ a: 1 });

    const elapsed = Date.now() - started;
    expect({ status: response.status, error: response.body.error }).toEqual({ status: 503, error: 'upstream_unavailable' });
    expect(elapsed).toBeGreaterThanOrEqual(780);
    expect(elapsed).toBeLessThan(10_000);
    expect(await gw.metric('gateway_upstream_retries_total', { upstream: 'users' })).toBe(1);
  });
});

describe('timeouts', () => {
  it('when the upstream answers later than its timeout, then 504 upstream_timeout at the timeout', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, { USERS_UPSTREAM_TIMEOUT_MS: '300' });
    const started = Date.now();
    const response = await gw.http.get('/api/v1/users/slow?ms=3000').set('Authorization', `Bearer ${suite.token}`).expect(504);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(2500);
    expect(response.body.error).toBe('upstream_timeout');
    // The timeout is per upstream: analytics keeps the default and answers a slower call.
    await gw.http.get('/api/v1/analytics/slow?ms=500').set('Authorization', `Bearer ${suite.token}`).expect(200);
  });
});

describe('in-flight bound per upstream', () => {
  it('when a slow upstream has its maximum in flight, then the next request to it is answered 503 upstream_overloaded at once, while another upstream still answers', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, { UPSTREAM_MAX_IN_FLIGHT: '2' });
    const authorization = `Bearer ${suite.token}`;
    const leave = new AbortController();
    // Held by the stub far beyond the test's own time limit: an answer to a third request did not wait for them.
    const held = [1, 2].map(() =>
      fetch(`${gw.url}/api/v1/users/slow?ms=600000`, { headers: { authorization }, signal: leave.signal }).catch(() => undefined),
    );
    try {
      await eventually(() => users.requests.length === 2, 10_000, 'both slow requests at the upstream');

      const shed = await gw.http.get('/api/v1/users/me').set('Authorization', authorization);
      expect({ status: shed.status, error: shed.body.error, retryAfter: shed.headers['retry-after'] }).toEqual({
        status: 503,
        error: 'upstream_overloaded',
        retryAfter: '1',
      });
      expect(shed.body.request_id).toEqual(expect.any(String));
      expect(users.requests).toHaveLength(2);
      // The bound is per upstream: analytics has slots of its own.
      await gw.http.get('/api/v1/analytics/summary').set('Authorization', authorization).expect(200);
      expect(await gw.metric('gateway_upstream_shed_total', { upstream: 'users' })).toBe(1);
      expect(await gw.metric('gateway_upstream_shed_total', { upstream: 'analytics' })).toBe(0);
      // Shedding is not a failure of the upstream: its breaker stays closed.
      expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(0);
    } finally {
      leave.abort();
      await Promise.all(held);
    }
    // Once the held requests are over, there is room again.
    await eventually(
      async () => (await gw.http.get('/api/v1/users/me').set('Authorization', authorization)).status === 200,
      10_000,
      'a free slot for users',
    );
  });
});

describe('circuit breaker', () => {
  // A cool-down long enough that a loaded machine still sends the next call while the breaker is open.
  const breakerEnv = { BREAKER_MIN_REQUESTS: '4', BREAKER_FAILURE_RATIO: '0.5', BREAKER_COOLDOWN_MS: '1500', BREAKER_WINDOW_MS: '30000' };

  it('when enough calls fail, then it opens and answers 503 without calling the upstream, then recovers through a half-open probe', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, breakerEnv);
    const call = (path: string) => gw.http.get(path).set('Authorization', `Bearer ${suite.token}`);
    for (let i = 0; i < 4; i += 1) await call('/api/v1/users/status/503').expect(503);
    expect(users.requests).toHaveLength(4);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(2);

    const started = Date.now();
    const rejected = await call('/api/v1/users/me').expect(503);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(rejected.body.error).toBe('upstream_unavailable');
    expect(users.requests).toHaveLength(4);
    expect(await gw.metric('gateway_circuit_breaker_rejections_total', { upstream: 'users' })).toBe(1);
    // Other upstreams have breakers of their own.
    await gw.http.get('/api/v1/analytics/summary').set('Authorization', `Bearer ${suite.token}`).expect(200);

    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(1);
    await call('/api/v1/users/me').expect(200);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(0);
    await call('/api/v1/users/me').expect(200);
  });

  it('when the half-open probe fails, then the breaker opens again', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, breakerEnv);
    const call = (path: string) => gw.http.get(path).set('Authorization', `Bearer ${suite.token}`);
    for (let i = 0; i < 4; i += 1) await call('/api/v1/users/status/500').expect(500);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await call('/api/v1/users/status/502').expect(502);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(2);
    await call('/api/v1/users/me').expect(503);
    expect(users.requests).toHaveLength(5);
  });

  it('when failures stay under the ratio, then the breaker stays closed', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, breakerEnv);
    const call = (path: string) => gw.http.get(path).set('Authorization', `Bearer ${suite.token}`);
    for (let i = 0; i < 6; i += 1) await call('/api/v1/users/me').expect(200);
    for (let i = 0; i < 3; i += 1) await call('/api/v1/users/status/503').expect(503);
    await call('/api/v1/users/me').expect(200);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(0);
  });

  it('when the upstream sheds load (503 overloaded), then the breaker stays closed and its other requests still go through; other 503s still count', async () => {
    const users = await stub('users');
    const gw = await gatewayFor(users.url, breakerEnv);
    const call = (path: string) => gw.http.get(path).set('Authorization', `Bearer ${suite.token}`);

    const shed = [];
    for (let i = 0; i < 8; i += 1) shed.push((await call('/api/v1/users/overloaded')).status);
    const afterShedding = await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' });
    await call('/api/v1/users/me').expect(200);
    for (let i = 0; i < 8; i += 1) await call('/api/v1/users/status/503').expect(503);

    expect(shed).toEqual(Array(8).fill(503));
    expect(afterShedding).toBe(0);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(2);
  });

  it('when the upstream refuses connections, then the breaker opens and later calls are rejected at once', async () => {
    const gw = await gatewayFor(await deadUpstreamUrl(), breakerEnv);
    for (let i = 0; i < 4; i += 1) await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`).expect(503);
    await gw.http.get('/api/v1/users/me').set('Authorization', `Bearer ${suite.token}`).expect(503);
    expect(await gw.metric('gateway_circuit_breaker_rejections_total', { upstream: 'users' })).toBe(1);
  });
});

/** An upstream that takes a body as it arrives, counting its bytes, and answers once it ends (`answer: false`: never). */
const startCountingUpstream = async (answer = true) => {
  const seen = { bytes: 0, ended: false, cut: false };
  const server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (seen.bytes += chunk.length));
    req.once('end', () => {
      seen.ended = true;
      if (answer) res.end(JSON.stringify({ received: seen.bytes }));
    });
    req.once('close', () => (seen.cut = !seen.ended));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/**
 * A POST to the gateway whose body the test writes piece by piece, chunked or (with `length`) with
 * a Content-Length; its answer's status and body.
 */
const chunkedUpload = (gatewayUrl: string, token: string, length?: number) => {
  const url = new URL('/api/v1/users/stub/uploads', gatewayUrl);
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/octet-stream',
    ...(length === undefined ? {} : { 'content-length': String(length) }),
  };
  const req = request(url, { method: 'POST', headers });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
  });
  return { write: (bytes: number) => req.write(Buffer.alloc(bytes, 0x61)), end: () => req.end(), answer };
};

describe('streamed uploads', () => {
  it('when a chunked upload is sent, then it reaches the upstream while it is still arriving, not once it has all been read', async () => {
    const upstream = suite.closeAfterTest(await startCountingUpstream());
    const gw = await gatewayFor(upstream.url, { BODY_LIMIT: '1mb' });
    const upload = chunkedUpload(gw.url, suite.token);

    upload.write(64 * 1024);
    await eventually(async () => upstream.seen.bytes >= 64 * 1024, 5_000, 'the first 64 KiB upstream before the rest is sent');
    upload.write(512 * 1024);
    upload.end();

    const { status, body } = await upload.answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ received: 576 * 1024 });
  });

  it('when a chunked upload grows past the body limit on its way, then 413 payload_too_large and the upstream request is cut', async () => {
    const upstream = suite.closeAfterTest(await startCountingUpstream());
    const gw = await gatewayFor(upstream.url, { BODY_LIMIT: '256kb' });
    const upload = chunkedUpload(gw.url, suite.token);

    upload.write(200 * 1024);
    await eventually(async () => upstream.seen.bytes > 0, 5_000, 'the upload under way upstream');
    upload.write(200 * 1024);
    upload.end();

    const { status, body } = await upload.answer;
    expect(status).toBe(413);
    expect(JSON.parse(body).error).toBe('payload_too_large');
    await eventually(async () => upstream.seen.cut, 5_000, 'the upstream request cut');
    expect(upstream.seen.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(0);
  });

  it('when an upload takes longer to send than the upstream timeout, then it is not cut; the timeout counts from its last byte', async () => {
    const upstream = suite.closeAfterTest(await startCountingUpstream());
    const gw = await gatewayFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '300' });
    const upload = chunkedUpload(gw.url, suite.token, 6 * 8 * 1024);

    for (let i = 0; i < 6; i += 1) {
      upload.write(8 * 1024);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    upload.end();

    expect((await upload.answer).status).toBe(200);
  });

  it('when the upstream does not answer after the last byte of an upload, then 504 upstream_timeout', async () => {
    const upstream = suite.closeAfterTest(await startCountingUpstream(false));
    const gw = await gatewayFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '300' });
    const upload = chunkedUpload(gw.url, suite.token);

    upload.write(8 * 1024);
    upload.end();

    const { status, body } = await upload.answer;
    expect(status).toBe(504);
    expect(JSON.parse(body).error).toBe('upstream_timeout');
  });
});
