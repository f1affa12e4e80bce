import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { composeAuth, loadAuthConfig, type ComposedAuth } from '@galion/auth';
import { createLogger, createRedis, RedisStore, waitForRedis, type KeyValueStore } from '@galion/kit';
import { freePort, startTestServer, testDatabase, testRedis } from '@galion/localdeps';
import express from 'express';
import supertest from 'supertest';
import { loadGatewayConfig, UPSTREAMS, upstreamSetting, type UpstreamName } from '../src/config';
import { composeGateway, type ComposedGateway } from '../src/service';

const logger = createLogger({ service: 'test', level: 'silent' });

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StubUpstream {
  name: string;
  url: string;
  /** Every request the stub received under /api/v1 (probes and OpenAPI fetches are left out). */
  requests: RecordedRequest[];
  /** Ends the stub and leaves its port closed (connections are refused). */
  close(): Promise<void>;
}

const stubOpenApi = (name: string) => ({
  openapi: '3.1.0',
  info: { title: `Galion ${name}`, version: '1.0.0' },
  paths: {
    [`/api/v1/${name}/me`]: {
      get: {
        summary: `The caller's ${name} record`,
        tags: [name],
        security: [{ bearerAuth: [] }],
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } } },
      },
    },
  },
  components: {
    schemas: {
      // The same name in two services, with different shapes: the merge must keep both.
      Thing: { type: 'object', properties: { [`${name}_field`]: { type: 'string' } } },
      Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
    },
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
  },
});

/**
 * A small upstream standing in for a service: records what it receives, echoes it back, and
 * has routes for slow answers and chosen statuses. `/api/v1/<name>/slow?ms=` waits first;
 * `/api/v1/<name>/status/<code>` answers that status; `/api/v1/<name>/overloaded` sheds the
 * request as a loaded service does (503 `overloaded`).
 */
const stubApp = (name: string, requests: RecordedRequest[]) => {
  const app = express();
  app.get('/livez', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get(`/api/v1/${name}/openapi.json`, (_req, res) => {
    res.json(stubOpenApi(name));
  });
  app.use('/api/v1', express.raw({ type: () => true, limit: '10mb' }), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    requests.push({ method: req.method, url: req.originalUrl, headers: req.headers, body });
    if (/\/overloaded$/.test(req.path)) {
      // What a Galion service answers when it sheds load (kit's MAX_IN_FLIGHT_REQUESTS, auth's hashing queue).
      res.status(503).set('Retry-After', '1').json({ error: 'overloaded', message: 'At capacity.' });
      return;
    }
    const status = /\/status\/(\d{3})$/.exec(req.path)?.[1];
    const wait = /\/slow$/.test(req.path) ? Number(req.query.ms ?? 1000) : 0;
    const timer = setTimeout(() => {
      if (res.writableEnded || res.destroyed) return;
      res.status(status ? Number(status) : 200).json({ upstream: name, method: req.method, url: req.originalUrl, body });
    }, wait);
    res.once('close', () => clearTimeout(timer));
  });
  return app;
};

export const startStubUpstream = async (name: string): Promise<StubUpstream> => {
  const requests: RecordedRequest[] = [];
  const server = await startTestServer(stubApp(name, requests));
  return { name, url: server.url, requests, close: server.close };
};

/**
 * A stub whose first `dropConnections` TCP connections are cut as soon as they open (the
 * upstream restarted, a keep-alive socket went stale); later connections are served normally.
 */
export const startFlakyUpstream = async (name: string, dropConnections = 1): Promise<StubUpstream & { dropped: () => number }> => {
  const requests: RecordedRequest[] = [];
  const http: Server = createServer(stubApp(name, requests));
  let dropped = 0;
  const tcp: TcpServer = createTcpServer((socket) => {
    if (dropped < dropConnections) {
      dropped += 1;
      socket.destroy();
      return;
    }
    http.emit('connection', socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const { port } = tcp.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    requests,
    dropped: () => dropped,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        tcp.close(() => resolve());
      }),
  };
};

/**
 * A port whose connections never open, as a SYN to a pod that is gone goes unanswered: a process
 * listens with the smallest backlog and never accepts (its event loop is blocked), and the
 * kernel's accept queue is filled, so further SYNs are dropped.
 */
export const startBlackhole = async (): Promise<{ url: string; close(): Promise<void> }> => {
  const listener = `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      // A write to a pipe is synchronous on Linux: the port is out before the event loop stops for good.
      process.stdout.write(server.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    });`;
  const child = spawn(process.execPath, ['-e', listener], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the blackhole exited with ${code}`)));
  });
  // Backlog 1 queues two connections; a third finds the queue full.
  const fillers: Socket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    if (i < 2) opened.push(new Promise((resolve) => socket.once('connect', () => resolve())));
  }
  await Promise.all(opened);
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
};

/** A URL on which nothing listens: connections are refused. */
export const deadUpstreamUrl = async (): Promise<string> => `http://127.0.0.1:${await freePort()}`;

export interface RealAuth {
  service: ComposedAuth;
  url: string;
  close(): Promise<void>;
}

/** The real auth service on its own fresh database, listening, with the given store. */
export const startRealAuth = async (store: KeyValueStore): Promise<RealAuth> => {
  const database = await testDatabase('gw_auth');
  const service = await composeAuth(
    loadAuthConfig({
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      AUTH_GENERATE_SIGNING_KEY: 'true',
      LOG_LEVEL: 'silent',
      API_CHECK_RESPONSES: 'true',
    }),
    { logger, store },
  );
  const server = await startTestServer(service.app);
  return {
    service,
    url: server.url,
    async close() {
      await server.close();
      for (const closer of [...service.closers].reverse()) await closer.close();
      await database.drop();
    },
  };
};

/** A store on the shared test Redis with a key prefix of its own. */
export const newTestStore = async (): Promise<RedisStore> => {
  const redis = testRedis();
  const client = createRedis(redis.url);
  await waitForRedis(client);
  return new RedisStore(client, redis.prefix);
};

export interface GatewayHarness {
  service: ComposedGateway;
  url: string;
  http: ReturnType<typeof supertest>;
  /** The value of one sample of a metric in the gateway's /metrics, or 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * A gateway in front of the given upstreams. A service of services.json the test does not name
 * gets a stub of its own (closed with the gateway), so a test names only the upstreams it looks at.
 */
export const startGateway = async (
  upstreams: { auth: string; users: string; analytics: string } & Partial<Record<UpstreamName, string>>,
  store: KeyValueStore,
  env: Record<string, string> = {},
): Promise<GatewayHarness> => {
  const stubs: StubUpstream[] = [];
  const urls: Record<string, string> = {};
  for (const { name } of UPSTREAMS) {
    const given = upstreams[name];
    if (given !== undefined) urls[upstreamSetting(name, 'URL')] = given;
    else {
      const stub = await startStubUpstream(name);
      stubs.push(stub);
      urls[upstreamSetting(name, 'URL')] = stub.url;
    }
  }
  const service = await composeGateway(loadGatewayConfig({ ...urls, LOG_LEVEL: 'silent', API_CHECK_RESPONSES: 'true', ...env }), {
    logger,
    store,
  }).catch(async (error: unknown) => {
    await Promise.all(stubs.map((stub) => stub.close()));
    throw error;
  });
  const server = await startTestServer(service.app);
  const http = supertest(server.url);
  return {
    service,
    url: server.url,
    http,
    async metric(name, labels = {}) {
      const text = (await service.metrics.registry.metrics()).split('\n');
      const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
      const line = text.find((candidate) => {
        if (!candidate.startsWith(`${name}{`) && !candidate.startsWith(`${name} `)) return false;
        return wanted.every((label) => candidate.includes(label));
      });
      return line ? Number(line.split(' ').pop()) : 0;
    },
    async close() {
      await server.close();
      for (const closer of [...service.closers].reverse()) await closer.close();
      await Promise.all(stubs.map((stub) => stub.close()));
    },
  };
};

let counter = 0;
/** Registers and logs in a new user straight at auth; returns the access token and user id. */
export const loginAt = async (authUrl: string): Promise<{ id: string; accessToken: string; refreshToken: string }> => {
  counter += 1;
  const user = { email: `gw${counter}.${Date.now()}@example.com`, password: 'a long enough passphrase', name: `Gateway ${counter}` };
  const auth = supertest(authUrl);
  const registered = await auth.post('/api/v1/auth/register').send(user).expect(201);
  const login = await auth.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
  return {
    id: registered.body.id as string,
    accessToken: login.body.access_token as string,
    refreshToken: login.body.refresh_token as string,
  };
};

/** A random documentation-range client address, so rate-limit counts of tests never meet. */
export const randomIp = (): string => `203.0.113.${1 + Math.floor(Math.random() * 250)}`;

export interface GatewayPerTest {
  readonly store: RedisStore;
  readonly auth: RealAuth;
  readonly analytics: StubUpstream;
  /** A user's access token from the real auth service. */
  readonly token: string;
  /** A gateway in front of `usersUrl` (with the suite's auth and analytics), closed after the test. */
  gatewayFor(usersUrl: string, env?: Record<string, string>): Promise<GatewayHarness>;
  /** Closes `item` (an upstream, a gateway) after the test. */
  closeAfterTest<T extends { close(): Promise<void> }>(item: T): T;
}

/**
 * For suites whose tests each start a gateway in front of a users upstream of their own: a real
 * auth service, a stub analytics and a logged-in user for the suite, and whatever a test opened
 * closed after it. Registers the jest hooks that do this; call it at the top of the test file.
 */
export const gatewayPerTest = (): GatewayPerTest => {
  const opened: { close(): Promise<void> }[] = [];
  let store: RedisStore | undefined;
  let auth: RealAuth | undefined;
  let analytics: StubUpstream | undefined;
  let token = '';
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('gatewayPerTest: used before its beforeAll ran');
    return value;
  };
  beforeAll(async () => {
    store = await newTestStore();
    [auth, analytics] = await Promise.all([startRealAuth(store), startStubUpstream('analytics')]);
    token = (await loginAt(auth.url)).accessToken;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await Promise.all([auth?.close(), analytics?.close()]);
    await store?.close();
  });
  const closeAfterTest = <T extends { close(): Promise<void> }>(item: T): T => {
    opened.push(item);
    return item;
  };
  return {
    get store() {
      return ready(store);
    },
    get auth() {
      return ready(auth);
    },
    get analytics() {
      return ready(analytics);
    },
    get token() {
      return token;
    },
    closeAfterTest,
    gatewayFor: async (usersUrl, env = {}) =>
      closeAfterTest(await startGateway({ auth: ready(auth).url, users: usersUrl, analytics: ready(analytics).url }, ready(store), env)),
  };
};
