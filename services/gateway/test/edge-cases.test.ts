import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import type { RedisStore } from '@galion/kit';
import { gatewayPerTest, startGateway, startStubUpstream, type GatewayHarness } from './harness';

/**
 * The edges a reverse proxy must get right beyond ordinary forwarding (forwarding.test.ts):
 * clients that leave early, upstreams that answer malformed responses, hop-by-hop headers named
 * in Connection, and unusual request targets.
 */
const suite = gatewayPerTest();
const gatewayFor = suite.gatewayFor;

/** A raw request to the gateway, failing after `timeoutMs` rather than hanging. */
const call = (gw: GatewayHarness, method: string, path: string, headers: Record<string, string> = {}, timeoutMs = 3000) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${suite.token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from the gateway within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });

/** An upstream of raw bytes: every connection gets `answer()` back once it has sent something. */
const rawUpstream = async (answer: () => string) => {
  const server: TcpServer = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(answer(), 'latin1'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const closer = { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  suite.closeAfterTest(closer);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** A Node upstream whose answers the test shapes; records what it received. */
const nodeUpstream = async (handle: (req: IncomingMessage, res: ServerResponse) => void) => {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  suite.closeAfterTest({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
};

describe('clients that leave before the request is forwarded', () => {
  it('when clients drop a streamed upload while the gateway checks their token, then the upstream is not blamed and the breaker stays closed', async () => {
    const users = await startStubUpstream('users');
    suite.closeAfterTest(users);
    // The same Redis, its revocation look-up answering 100 ms late (a Redis latency spike).
    const { store, auth, analytics } = suite;
    const slowStore: RedisStore = Object.create(store);
    slowStore.getMany = async (keys) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return store.getMany(keys);
    };
    const gw = await startGateway({ auth: auth.url, users: users.url, analytics: analytics.url }, slowStore, {
      UPSTREAM_TIMEOUT_MS: '300',
      BREAKER_MIN_REQUESTS: '4',
      BREAKER_FAILURE_RATIO: '0.5',
      BREAKER_COOLDOWN_MS: '5000',
      BREAKER_WINDOW_MS: '30000',
    });
    suite.closeAfterTest(gw);
    const { port } = new URL(gw.url);
    // Headers and the start of a POST body, then the client hangs up while its token is checked.
    const droppedUpload = () =>
      new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.end(
            'POST /api/v1/users/stub/things HTTP/1.1\r\nHost: gw\r\n' +
              `Authorization: Bearer ${suite.token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":`,
          );
        });
        socket.on('error', () => undefined);
        socket.once('end', () => resolve());
        socket.resume();
      });
    for (let i = 0; i < 4; i += 1) await droppedUpload();
    // Past the check and the upstream timeout: a request left hanging upstream has been judged by now.
    await new Promise((resolve) => setTimeout(resolve, 700));

    // A caller who stayed is served: the upstream is healthy and was never called with those uploads.
    expect((await call(gw, 'GET', '/api/v1/users/me')).status).toBe(200);
    expect(await gw.metric('gateway_circuit_breaker_state', { upstream: 'users' })).toBe(0);
    expect(await gw.metric('gateway_upstream_request_duration_seconds_count', { upstream: 'users', status_code: '504' })).toBe(0);
  });
});

describe('malformed upstream answers', () => {
  it('when the upstream answers a status under 100, then the client gets 502 and the gateway keeps serving', async () => {
    const gw = await gatewayFor(await rawUpstream(() => 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
    const response = await call(gw, 'GET', '/api/v1/users/me');
    expect(response.status).toBe(502);
    expect((await call(gw, 'GET', '/api/v1/analytics/summary')).status).toBe(200);
  });

  it('when the upstream reason phrase holds a control character, then the client still gets the answer', async () => {
    const gw = await gatewayFor(await rawUpstream(() => 'HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
    const response = await call(gw, 'GET', '/api/v1/users/me');
    expect(response.status).toBe(200);
    expect(response.body).toBe('{}');
  });
});

describe('hop-by-hop headers named in Connection', () => {
  it('when either side names a header in Connection, then that header does not cross the gateway', async () => {
    const users = await nodeUpstream((_req, res) => {
      res.setHeader('Connection', 'keep-alive, X-Upstream-Hop');
      res.setHeader('X-Upstream-Hop', 'for the gateway only');
      res.end('{}');
    });
    const gw = await gatewayFor(users.url);
    const response = await call(gw, 'GET', '/api/v1/users/me', {
      connection: 'keep-alive, X-Client-Hop',
      'x-client-hop': 'for the gateway only',
    });
    expect(response.status).toBe(200);
    expect(users.seen[0]!.headers['x-client-hop']).toBeUndefined();
    expect(response.headers['x-upstream-hop']).toBeUndefined();
  });
});

describe('request targets', () => {
  it('when a client sends an absolute-form request target, then the upstream gets the origin form', async () => {
    const users = await nodeUpstream((_req, res) => res.end('{}'));
    const gw = await gatewayFor(users.url);
    const { port } = new URL(gw.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `GET http://evil.example/api/v1/users/me?x=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${suite.token}\r\nConnection: close\r\n\r\n`,
        );
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    expect(users.seen.map((seen) => seen.url)).toEqual(['/api/v1/users/me?x=1']);
  });

  it('when the upstream URL has a path, then it goes in front of the forwarded path', async () => {
    const users = await nodeUpstream((_req, res) => res.end('{}'));
    const gw = await gatewayFor(`${users.url}/behind/ingress`);
    expect((await call(gw, 'GET', '/api/v1/users/me?x=1')).status).toBe(200);
    expect(users.seen.map((seen) => seen.url).filter((url) => url.includes('/api/'))).toEqual(['/behind/ingress/api/v1/users/me?x=1']);
  });
});
