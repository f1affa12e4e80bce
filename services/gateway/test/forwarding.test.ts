import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RedisStore } from '@galion/kit';
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

/**
 * How the gateway carries requests and responses: a raw Node upstream whose answers each test
 * shapes itself (streamed, large, cut short, with odd headers), so what the client receives can
 * be compared with what the upstream sent.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let store: RedisStore;
let auth: RealAuth;
let analytics: StubUpstream;
let upstream: Server;
let gw: GatewayHarness;
let token: string;
let handle: Handler;
const upstreamSaw: { method: string; url: string; headers: IncomingHttpHeaders; closedEarly: boolean }[] = [];

beforeAll(async () => {
  store = await newTestStore();
  [auth, analytics] = await Promise.all([startRealAuth(store), startStubUpstream('analytics')]);
  upstream = createServer((req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, closedEarly: false };
    upstreamSaw.push(seen);
    res.once('close', () => (seen.closedEarly = !res.writableFinished));
    if (req.url === '/livez') {
      res.end('{"status":"alive"}');
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const usersUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startGateway({ auth: auth.url, users: usersUrl, analytics: analytics.url }, store);
  token = (await loginAt(auth.url)).accessToken;
});

afterAll(async () => {
  await gw.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  await Promise.all([auth.close(), analytics.close()]);
  await store.close();
});

beforeEach(() => {
  upstreamSaw.length = 0;
});

/** A raw request to the gateway; resolves with the status, headers and whole body, or the error that cut it. */
const call = (method: string, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; error?: Error }>((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), error }));
    });
    req.on('error', reject);
    req.end();
  });

const waitFor = async (condition: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('responses', () => {
  it('when the upstream streams a large body in chunks without a length, then the client gets every byte in order', async () => {
    const chunk = (i: number) => Buffer.alloc(16 * 1024, String.fromCharCode(97 + (i % 26)));
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const next = () => {
        if (i === 40) return res.end();
        res.write(chunk(i++));
        setImmediate(next);
      };
      next();
    };
    const response = await call('GET', '/api/v1/users/export');
    expect(response.status).toBe(200);
    expect(response.body.equals(Buffer.concat(Array.from({ length: 40 }, (_, i) => chunk(i))))).toBe(true);
  });

  it('when the upstream answers a body over 64 KiB with a length, then it arrives whole with that length', async () => {
    const body = Buffer.alloc(300 * 1024, 'z');
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    };
    const response = await call('GET', '/api/v1/users/big');
    expect(response.headers['content-length']).toBe(String(body.length));
    expect(response.body.equals(body)).toBe(true);
  });

  it('when the upstream sets cookies, custom headers and hop-by-hop headers, then the client gets all but the hop-by-hop ones', async () => {
    handle = (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1; HttpOnly', 'b=2; Secure']);
      res.setHeader('X-Custom', 'kept');
      res.setHeader('Keep-Alive', 'timeout=99');
      res.setHeader('Upgrade', 'h2c');
      res.writeHead(201, 'Made It', { 'content-type': 'application/json' });
      res.end('{"created":true}');
    };
    const response = await call('POST', '/api/v1/users/stub/things');
    expect(response.status).toBe(201);
    expect(response.headers['set-cookie']).toEqual(['a=1; HttpOnly', 'b=2; Secure']);
    expect(response.headers['x-custom']).toBe('kept');
    expect(response.headers['keep-alive']).not.toBe('timeout=99');
    expect(response.headers.upgrade).toBeUndefined();
    // The gateway's own headers are still there.
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(response.body.toString())).toEqual({ created: true });
  });

  it('when the upstream answers 204, 304 or a HEAD request, then the client gets the status and no body', async () => {
    handle = (req, res) => {
      const status = req.url!.endsWith('/not-modified') ? 304 : req.method === 'HEAD' ? 200 : 204;
      res.writeHead(status, { etag: '"v1"', ...(req.method === 'HEAD' ? { 'content-length': '1234' } : {}) });
      res.end();
    };
    const noContent = await call('DELETE', '/api/v1/users/thing');
    const notModified = await call('GET', '/api/v1/users/not-modified', { 'if-none-match': '"v1"' });
    const head = await call('HEAD', '/api/v1/users/thing');
    expect([noContent.status, notModified.status, head.status]).toEqual([204, 304, 200]);
    expect([noContent.body.length, notModified.body.length, head.body.length]).toEqual([0, 0, 0]);
    expect(notModified.headers.etag).toBe('"v1"');
    expect(head.headers['content-length']).toBe('1234');
    expect(upstreamSaw.find((seen) => seen.url === '/api/v1/users/not-modified')!.headers['if-none-match']).toBe('"v1"');
  });

  it('when the upstream dies in the middle of a response, then the client sees a broken response, not a complete one', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('only the start');
      setTimeout(() => res.destroy(), 50);
    };
    const response = await call('GET', '/api/v1/users/partial').catch((error: Error) => ({ error, body: Buffer.alloc(0) }));
    expect(response.error).toBeDefined();
    expect(response.body.length).toBeLessThan(100000);
  });
});

describe('requests', () => {
  it('when a request is proxied, then the upstream sees its own host in Host and the client host in X-Forwarded-Host', async () => {
    handle = (_req, res) => res.end('{}');
    await call('GET', '/api/v1/users/me', { host: 'api.example.com' });
    const seen = upstreamSaw.find((entry) => entry.url === '/api/v1/users/me')!;
    expect(seen.headers.host).toBe(`127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    expect(seen.headers['x-forwarded-host']).toBe('api.example.com');
    expect(seen.headers.connection).toBe('keep-alive');
  });

  it('when the client goes away in the middle of a streamed response, then the upstream request is ended too', async () => {
    let writer: NodeJS.Timeout | undefined;
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      writer = setInterval(() => res.write('data: tick\n\n'), 10);
      res.once('close', () => clearInterval(writer));
    };
    await new Promise<void>((resolve, reject) => {
      const req = request(`${gw.url}/api/v1/users/stream`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.once('timeout', reject);
      req.end();
    });
    await waitFor(() => upstreamSaw.some((seen) => seen.url === '/api/v1/users/stream' && seen.closedEarly));
    clearInterval(writer);
  });
});
