import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, get as httpGet, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { closeServer, commonEnv, ConfigError, createLogger, DEFAULT_SERVER_SETTINGS, Health, Lifecycle, listen, loadConfig, readCommonConfig, z } from '@galion/kit';
import { eventually } from '@galion/localdeps';
import express from 'express';

const fixture = path.join(__dirname, 'fixtures', 'slow-server.cjs');

const startFixture = (env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; url: string; output: () => string }>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/[\d.:]+/.exec(output)?.[0];
      if (url) resolve({ child, url, output: () => output });
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });

const exitCode = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('graceful shutdown', () => {
  it('when SIGTERM arrives during a request, then the request completes, new connections are refused and the process exits 0', async () => {
    const { child, url, output } = await startFixture({ SLOW_MS: '800' });
    const exited = exitCode(child);
    const inFlight = fetch(`${url}/slow`);
    await eventually(() => output().includes('slow-started'), 5_000, 'the slow request to be in flight');
    child.kill('SIGTERM');
    const refused = () => fetch(`${url}/livez`).then(
      () => false,
      () => true,
    );
    await eventually(refused, 5_000, 'new connections to be refused');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    expect(await exited).toBe(0);
    expect(output()).toContain('closed-clients');
  });

  it('when draining with a delay, then readiness turns false while requests are still served', async () => {
    const { child, url } = await startFixture({ DRAIN_MS: '1500', SLOW_MS: '10' });
    const exited = exitCode(child);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    child.kill('SIGTERM');
    let readiness: { status: number; body: { checks: { shutdown?: string } } } | undefined;
    await eventually(
      async () => {
        const response = await fetch(`${url}/readyz`);
        readiness = { status: response.status, body: await response.json() };
        return readiness.status === 503;
      },
      1_400,
      'readiness to turn false within the drain',
    );
    expect(readiness?.body.checks.shutdown).toMatch(/draining/);
    expect((await fetch(`${url}/slow`)).status).toBe(200);
    expect(await exited).toBe(0);
  });
});

/** A raw connection to `server`, to send requests byte by byte and see exactly what comes back. */
const rawClient = (server: Server) => {
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    socket,
    closed,
    received: () => received,
    /** Resolves once `count` complete answers (headers and a Content-Length body) have come. */
    answers: async (count: number): Promise<string[]> => {
      await eventually(() => splitAnswers(received).length >= count || socket.destroyed, 10_000, `${count} answers`);
      return splitAnswers(received);
    },
  };
};

const splitAnswers = (text: string): string[] => {
  const answers: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return answers;
    const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) return answers;
    answers.push(rest.slice(0, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
};

describe('keep-alive while draining', () => {
  it('when draining, then idle keep-alive connections are left to their clients, an answer says Connection: close and ends its connection, and what is still idle is cut when the delay is over', async () => {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    const server = await listen(app, 0, '127.0.0.1');
    const lifecycle = new Lifecycle({
      logger: createLogger({ service: 'drain-test', level: 'silent' }),
      health: new Health(),
      shutdownTimeoutMs: 1_000,
      drainDelayMs: 1_500,
    }).addServer(server);
    const get = 'GET /hello HTTP/1.1\r\nHost: drain\r\n\r\n';
    const used = rawClient(server);
    const idle = rawClient(server);
    used.socket.write(get);
    idle.socket.write(get);
    expect((await used.answers(1))[0]).toMatch(/^connection: keep-alive/im);
    await idle.answers(1);
    let idleClosedAt = 0;
    void idle.closed.then(() => (idleClosedAt = Date.now()));

    const drainStarted = Date.now();
    const stopped = lifecycle.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const openDuringDrain = { used: !used.socket.destroyed, idle: !idle.socket.destroyed };
    used.socket.write(get);
    const answers = await used.answers(2);
    await used.closed;
    const idleOpenAfterUsedClosed = idleClosedAt === 0;
    await stopped;
    await idle.closed;

    expect(openDuringDrain).toEqual({ used: true, idle: true });
    expect(answers[1]).toMatch(/^HTTP\/1.1 200 OK/);
    expect(answers[1]).toMatch(/^connection: close/im);
    expect(idleOpenAfterUsedClosed).toBe(true);
    expect(idleClosedAt - drainStarted).toBeGreaterThanOrEqual(1_400);
  });
});

/** The limits as a service reads them from its environment. */
const limitsFrom = (env: Record<string, string>) =>
  readCommonConfig(loadConfig(z.object({ ...commonEnv, PORT: z.number().default(0) }), env)).server;

describe('server settings', () => {
  const servers: Server[] = [];
  const start = async (env: Record<string, string>) => {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    app.post('/echo', express.json(), (req, res) => {
      res.json(req.body);
    });
    const server = await listen(app, 0, '127.0.0.1', limitsFrom(env));
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => closeServer(server, 0)));
  });

  it('when a client sends its headers slower than HTTP_HEADERS_TIMEOUT_MS allows, then it gets 408 and the connection is closed', async () => {
    const server = await start({ HTTP_HEADERS_TIMEOUT_MS: '300', HTTP_REQUEST_TIMEOUT_MS: '5000' });
    const client = rawClient(server);
    client.socket.write('GET /hello HTTP/1.1\r\nHost: test\r\n');
    // A header line now and then, never the blank line that ends them (slowloris).
    const dribble = setInterval(() => client.socket.write('X-Slow: 1\r\n'), 50);
    try {
      await client.closed;
    } finally {
      clearInterval(dribble);
    }
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('when a keep-alive connection idles longer than the headers timeout, then it stays open and its next request is served', async () => {
    const server = await start({ HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '10000' });
    const client = rawClient(server);
    client.socket.write('GET /hello HTTP/1.1\r\nHost: test\r\n\r\n');
    await client.answers(1);
    // Idle between requests is the keep-alive timeout's business, not the headers timeout's.
    await new Promise((resolve) => setTimeout(resolve, 600));
    client.socket.write('GET /hello HTTP/1.1\r\nHost: test\r\n\r\n');
    const answers = await client.answers(2);
    client.socket.destroy();
    expect(answers.map((answer) => answer.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(answers[0]).toMatch(/keep-alive: timeout=10/i);
  });

  it('when a client sends its body slower than HTTP_REQUEST_TIMEOUT_MS allows, then it gets 408 and the connection is closed', async () => {
    const server = await start({ HTTP_HEADERS_TIMEOUT_MS: '200', HTTP_REQUEST_TIMEOUT_MS: '400' });
    const client = rawClient(server);
    client.socket.write('POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"');
    const dribble = setInterval(() => client.socket.write('x'), 50);
    try {
      await client.closed;
    } finally {
      clearInterval(dribble);
    }
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('when a connection has carried HTTP_MAX_REQUESTS_PER_SOCKET requests, then its last answer says Connection: close and the client goes on over a new one', async () => {
    const server = await start({ HTTP_MAX_REQUESTS_PER_SOCKET: '2' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { port } = server.address() as AddressInfo;
    const get = () =>
      new Promise<{ status: number; connection: string | undefined; clientPort: number | undefined }>((resolve, reject) => {
        httpGet({ agent, host: '127.0.0.1', port, path: '/hello' }, (res) => {
          const clientPort = res.socket.localPort;
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, clientPort }));
        }).once('error', reject);
      });
    const answers = [await get(), await get(), await get()];
    agent.destroy();
    expect(answers.map(({ status, connection }) => ({ status, connection }))).toEqual([
      { status: 200, connection: 'keep-alive' },
      { status: 200, connection: 'close' },
      { status: 200, connection: 'keep-alive' },
    ]);
    // The first two on one connection, the third on another.
    expect(answers[1]!.clientPort).toBe(answers[0]!.clientPort);
    expect(answers[2]!.clientPort).not.toBe(answers[0]!.clientPort);
  });

  // Several sockets on one port need SO_REUSEPORT, which the service uses on Linux, where Galion
  // runs (the test machine and the images); /proc/net/tcp is Linux's too.
  it('when HTTP_LISTEN_SOCKETS is 4, then four sockets listen on the port, connections spread over them are all answered, and closing the server closes every one', async () => {
    const server = await start({ HTTP_LISTEN_SOCKETS: '4' });
    const { port } = server.address() as AddressInfo;
    // /proc/net/tcp: local address as hex ip:port, state 0A is LISTEN.
    const listening = () =>
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields[3] === '0A' && parseInt(fields[1]?.split(':')[1] ?? '', 16) === port).length;
    expect(listening()).toBe(4);
    // The kernel spreads connections over the sockets: many connections reach all of them.
    const statuses = await Promise.all(
      Array.from({ length: 64 }, () => fetch(`http://127.0.0.1:${port}/hello`, { headers: { connection: 'close' } }).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    await closeServer(server, 1_000);
    expect(listening()).toBe(0);
  });

  it('when HTTP_HEADERS_TIMEOUT_MS exceeds HTTP_REQUEST_TIMEOUT_MS, then start-up fails naming it', () => {
    expect(() => limitsFrom({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(ConfigError);
    expect(() => limitsFrom({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
    expect(limitsFrom({})).toEqual(DEFAULT_SERVER_SETTINGS);
  });
});
