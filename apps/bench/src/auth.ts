import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { createRedis, ensureDatabaseExists, RedisStore, waitForRedis } from '@galion/kit';
import { freePort, startPostgres, startRedis } from '@galion/localdeps';
import { manifest, serviceMain } from '@galion/manifest';
import {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  exportPrivateJwk,
  generateSigningKey,
  StaticKeySource,
  StoreDenylist,
  TokenVerifier,
} from '@galion/tokens';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWK } from 'jose';
import { errorCodeOf, getRequest, KeepAliveConnection, type Answer } from './keep-alive.js';
import { fmt, percentile, pooled, row, startProcess, stopProcess, tally } from './load.js';
import { serverCpu, serverCpuBetween } from './process-cpu.js';

const AUTH_MAIN = serviceMain(manifest.get('auth'));
/** The argon2 binding auth hashes with: the raw rate is measured with the same one. */
const requireFromAuth = createRequire(path.join(path.dirname(AUTH_MAIN), '..', 'package.json'));
const ARGON2_PATH = requireFromAuth.resolve('argon2');

interface Argon2 {
  argon2id: number;
  hash(password: string, options: { type: number; memoryCost: number; timeCost: number; parallelism: number }): Promise<string>;
}
const ISSUER = 'http://localhost:8080/api/v1/auth';
const PASSWORD = 'benchmark passphrase';

/** The targets of issue 18, printed beside what they are measured against. */
const TARGETS = { verification: 0.8, meToLivez: 0.5, loginToRaw: 0.95 };

export interface AuthBenchOptions {
  seconds: number;
  concurrency: number;
}

const ratioLine = (label: string, value: number, target: number) =>
  `  ${label}: ${fmt(value, 2)} (target ≥ ${fmt(target, 2)}: ${value >= target ? 'met' : 'NOT met'})`;

/** CPU seconds so far of a process (the auth service spawns no children), or of its main thread, from /proc. */
const cpuSeconds = (pid: number, thread: 'all' | 'main' = 'all'): number => {
  const stat = readFileSync(thread === 'main' ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const postRequest = (port: number, target: string, body: unknown): string => {
  const json = JSON.stringify(body);
  return `POST ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
};

/** A mail webhook for auth to send to: the links it mails, by recipient. */
const mailCatcher = async () => {
  const links = new Map<string, string>();
  const waiting = new Map<string, (link: string) => void>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const mail = JSON.parse(body) as { to: string; link: string };
      links.set(mail.to, mail.link);
      waiting.get(mail.to)?.(mail.link);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mail`,
    linkTo: (email: string) =>
      new Promise<string>((resolve) => (links.has(email) ? resolve(links.get(email)!) : waiting.set(email, resolve))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

interface Phase {
  answers: Answer[];
  seconds: number;
}

/**
 * Closed-loop load over keep-alive connections (bare sockets: node's fetch cost the load
 * generator more CPU than the server it measured): `clients` connections, each sending its next
 * request as soon as the last is answered, for `seconds`. A connection the server closes
 * (HTTP_MAX_REQUESTS_PER_SOCKET) is replaced.
 */
const keepAliveLoad = async (port: number, clients: number, seconds: number, request: (client: number) => string): Promise<Phase> => {
  const answers: Answer[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      let connection = new KeepAliveConnection(port, 30_000);
      while (performance.now() < deadline) {
        if (connection.dead) connection = new KeepAliveConnection(port, 30_000);
        answers.push(await connection.exchange(request(client)));
      }
      connection.close();
    }),
  );
  return { answers, seconds: (performance.now() - started) / 1000 };
};

/** Adds phases measured in rounds into one figure. */
const merged = (phases: Phase[]): Phase => ({
  answers: phases.flatMap((phase) => phase.answers),
  seconds: phases.reduce((sum, phase) => sum + phase.seconds, 0),
});

const summary = (phase: Phase) => {
  const ms = phase.answers.map((answer) => answer.ms).sort((a, b) => a - b);
  return {
    perSecond: phase.answers.length / phase.seconds,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    statuses: tally(phase.answers.map((answer) => (answer.status ? `${answer.status}` : answer.failure))),
  };
};

/**
 * Alternates short slices of each piece of work on this thread and adds each one's slices up,
 * so a change in the machine's other load touches every figure alike. Operations per second.
 */
const interleaved = async (works: Record<string, () => unknown>, totalSeconds: number, rounds = 8): Promise<Record<string, number>> => {
  const counts = Object.fromEntries(Object.keys(works).map((name) => [name, { ops: 0, ms: 0 }]));
  const slice = (totalSeconds * 1000) / rounds / Object.keys(works).length;
  for (const work of Object.values(works)) for (let i = 0; i < 200; i += 1) await work();
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, work] of Object.entries(works)) {
      const started = performance.now();
      const deadline = started + slice;
      let ops = 0;
      while (performance.now() < deadline) {
        const result = work();
        if (result instanceof Promise) await result;
        ops += 1;
      }
      counts[name]!.ops += ops;
      counts[name]!.ms += performance.now() - started;
    }
  }
  return Object.fromEntries(Object.entries(counts).map(([name, { ops, ms }]) => [name, ops / (ms / 1000)]));
};

/** An access token as auth signs it (same header and claims), with a key of `alg`. */
const accessToken = async (alg: string) => {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid: `bench-${alg}`, alg, use: 'sig' };
  const issuedAt = Date.now() / 1000;
  const token = await new SignJWT({ role: 'user', sid: randomUUID() })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(ISSUER)
    .setAudience('galion')
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(Math.floor(issuedAt) + 900)
    .sign(pair.privateKey);
  return { jwk, token };
};

/** The bare signature check of `token`: signing input and signature decoded beforehand, the key imported once. */
const rawCheck = (token: string, jwk: JWK, alg: string): (() => boolean) => {
  const key: KeyObject = createPublicKey({ key: jwk as never, format: 'jwk' });
  const dot = token.lastIndexOf('.');
  const input = Buffer.from(token.slice(0, dot), 'latin1');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const options = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  const digest = alg === 'ES256' ? 'sha256' : null;
  return () => {
    if (!cryptoVerify(digest, input, options, signature)) throw new Error('the raw check refused a good signature');
    return true;
  };
};

/**
 * argon2id verifications per second in a process of its own (its libuv pool sized like the
 * service's), `parallel` at once, for `seconds`: what the cores can hash, with nothing else.
 */
const rawArgon2Rate = (hash: string, parallel: number, seconds: number): Promise<{ perSecond: number; cpuMsEach: number }> =>
  new Promise((resolve, reject) => {
    const script = `
      const argon2 = require(process.env.ARGON2_PATH);
      const hash = process.env.ARGON2_HASH, deadline = Date.now() + Number(process.env.SECONDS) * 1000;
      let done = 0;
      const loop = async () => { while (Date.now() < deadline) { if (!(await argon2.verify(hash, ${JSON.stringify(PASSWORD)}))) throw new Error('bad'); done += 1; } };
      const [started, cpu] = [performance.now(), process.cpuUsage()];
      Promise.all(Array.from({ length: Number(process.env.PARALLEL) }, loop)).then(() => {
        const used = process.cpuUsage(cpu);
        process.stdout.write(JSON.stringify({ perSecond: done / ((performance.now() - started) / 1000), cpuMsEach: (used.user + used.system) / 1000 / done }));
      });`;
    const child = spawn(process.execPath, ['-e', script], {
      env: {
        ...process.env,
        ARGON2_PATH,
        ARGON2_HASH: hash,
        SECONDS: String(seconds),
        PARALLEL: String(parallel),
        UV_THREADPOOL_SIZE: String(Math.max(4, parallel)),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(output) as { perSecond: number; cpuMsEach: number })
        : reject(new Error(`the argon2 rate process exited with ${code}`)),
    );
  });

/**
 * Auth figures in one run, against a real auth process on real PostgreSQL and Redis, each next
 * to the cheapest thing doing the same work on the same machine, measured in alternating rounds:
 * GET /me against /livez, logins against raw argon2id verifications on every core, a burst of
 * logins against the hashing queue, and token verification against a bare signature check.
 * BENCH_AUTH_CPU_PROF=<dir> writes a CPU profile of the auth process there.
 */
export const benchAuth = async ({ seconds, concurrency }: AuthBenchOptions): Promise<void> => {
  const loadAtStart = loadavg()[0]!;
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = postgres.urlFor('bench_auth');
  await ensureDatabaseExists(databaseUrl);
  const key = await generateSigningKey();
  const argon2 = {
    memoryKib: Number(process.env.AUTH_ARGON2_MEMORY_KIB ?? 19_456),
    timeCost: Number(process.env.AUTH_ARGON2_TIME_COST ?? 2),
  };
  const profileDir = process.env.BENCH_AUTH_CPU_PROF;
  const mail = await mailCatcher();
  const auth = await startProcess(
    AUTH_MAIN,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      MIGRATE_ON_START: 'true',
      AUTH_JWT_KEYS: JSON.stringify({ keys: [exportPrivateJwk(key)] }),
      AUTH_ARGON2_MEMORY_KIB: String(argon2.memoryKib),
      AUTH_ARGON2_TIME_COST: String(argon2.timeCost),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_MAX: '20',
      AUTH_MAIL_WEBHOOK_URL: mail.url,
      AUTH_RECOVERY_MAX_REQUESTS_PER_IP_PER_HOUR: String(4 * concurrency),
      ...(profileDir ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
    },
    `${base}/readyz`,
  );
  const redisClient = createRedis(redis.url);
  try {
    const call = (target: string, body: unknown, token?: string) =>
      fetch(`${base}${target}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    // Two sets of users, one that confirmed its address (what /me shows can no longer change) and
    // one that did not; four at a time, as each registration and login is a hash and the hashing queue is bounded.
    const signUp = (set: string, verify: boolean) =>
      pooled(
        Array.from({ length: concurrency }, (_, i) => i),
        4,
        async (i) => {
          const user = { email: `${set}${i}@example.com`, password: PASSWORD, name: `Bench ${set} ${i}` };
          const registered = await call('/api/v1/auth/register', user);
          if (registered.status !== 201) throw new Error(`registering a bench user answered ${registered.status}`);
          const token = (
            (await (await call('/api/v1/auth/login', { email: user.email, password: user.password })).json()) as { access_token: string }
          ).access_token;
          if (verify) {
            await call('/api/v1/auth/email/verify-request', {}, token);
            const link = await mail.linkTo(user.email);
            const verified = await call('/api/v1/auth/email/verify', { token: new URL(link).searchParams.get('token') });
            if (verified.status !== 204) throw new Error(`confirming a bench user's address answered ${verified.status}`);
          }
          return { ...user, token };
        },
      );
    const users = await signUp('verified', true);
    const unverified = await signUp('unverified', false);
    const tokens = users.map((user) => user.token);
    const logins = users.map((user) => postRequest(port, '/api/v1/auth/login', { email: user.email, password: user.password }));

    // GET /me and /livez, the same clients and process, in alternating rounds after a warm-up of each.
    const readers = {
      me: (client: number) => getRequest(port, '/api/v1/auth/me', tokens[client]),
      meUnverified: (client: number) => getRequest(port, '/api/v1/auth/me', unverified[client]!.token),
      livez: () => getRequest(port, '/livez'),
    };
    type Read = keyof typeof readers;
    for (const request of Object.values(readers)) await keepAliveLoad(port, concurrency, 1, request);
    const rounds = 4;
    const reads = Object.fromEntries(
      Object.keys(readers).map((name) => [name, { phases: [] as Phase[], auth: 0, postgres: 0, redis: 0 }]),
    ) as Record<Read, { phases: Phase[]; auth: number; postgres: number; redis: number }>;
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, request] of Object.entries(readers) as [Read, (client: number) => string][]) {
        const [authBefore, serversBefore] = [cpuSeconds(auth.pid!), serverCpu()];
        reads[name].phases.push(await keepAliveLoad(port, concurrency, seconds / rounds, request));
        const servers = serverCpuBetween(serversBefore, serverCpu());
        reads[name].auth += cpuSeconds(auth.pid!) - authBefore;
        reads[name].postgres += servers.postgres;
        reads[name].redis += servers.redis;
      }
    }
    const readFigures = (name: Read) => summary(merged(reads[name].phases));
    const cpuPerRequest = (name: Read) => {
      const count = merged(reads[name].phases).answers.length;
      const micros = (seconds: number) => fmt((seconds / count) * 1e6);
      return `${micros(reads[name].auth)} / ${micros(reads[name].postgres)} / ${micros(reads[name].redis)}`;
    };
    const [meFigures, meUnverifiedFigures, livezFigures] = [readFigures('me'), readFigures('meUnverified'), readFigures('livez')];

    // Logins against raw argon2id verifications at the same cost, in alternating rounds.
    const argon2Module = requireFromAuth('argon2') as Argon2;
    const hash = await argon2Module.hash(PASSWORD, {
      type: argon2Module.argon2id,
      memoryCost: argon2.memoryKib,
      timeCost: argon2.timeCost,
      parallelism: 1,
    });
    // As many at once as the service hashes at once (AUTH_ARGON2_CONCURRENCY, the cores by default).
    const hashing = Number(process.env.AUTH_ARGON2_CONCURRENCY ?? availableParallelism());
    const loginRounds = 2;
    const raw: { perSecond: number; cpuMsEach: number }[] = [];
    const loginPhases: Phase[] = [];
    const loginCpu = { main: 0, all: 0, postgres: 0, redis: 0 };
    await keepAliveLoad(port, concurrency, 1, (client) => logins[client]!);
    for (let round = 0; round < loginRounds; round += 1) {
      raw.push(await rawArgon2Rate(hash, hashing, seconds / loginRounds));
      const [mainBefore, allBefore, serversBefore] = [cpuSeconds(auth.pid!, 'main'), cpuSeconds(auth.pid!), serverCpu()];
      loginPhases.push(await keepAliveLoad(port, concurrency, seconds / loginRounds, (client) => logins[client]!));
      const servers = serverCpuBetween(serversBefore, serverCpu());
      loginCpu.main += cpuSeconds(auth.pid!, 'main') - mainBefore;
      loginCpu.all += cpuSeconds(auth.pid!) - allBefore;
      loginCpu.postgres += servers.postgres;
      loginCpu.redis += servers.redis;
    }
    const rawRate = raw.reduce((sum, round) => sum + round.perSecond, 0) / raw.length;
    const rawCpuMs = raw.reduce((sum, round) => sum + round.cpuMsEach, 0) / raw.length;
    const login = summary(merged(loginPhases));
    const perLogin = (seconds: number) => (seconds / merged(loginPhases).answers.length) * 1000;
    const loginMs = (seconds: number) => fmt(perLogin(seconds), 2);
    const loginCpuMs = perLogin(loginCpu.all + loginCpu.postgres + loginCpu.redis);

    // A burst: 200 logins at once, on connections opened beforehand.
    const burstSize = 200;
    const connections = Array.from({ length: burstSize }, () => new KeepAliveConnection(port, 60_000));
    while (connections.some((connection) => !connection.connected && !connection.dead))
      await new Promise((resolve) => setTimeout(resolve, 10));
    const burst = await Promise.all(connections.map((connection, i) => connection.exchange(logins[i % logins.length]!)));
    for (const connection of connections) connection.close();
    const refused = burst.filter((answer) => answer.status === 503);
    const accepted = burst.filter((answer) => answer.status === 200);
    const msOf = (answers: Answer[]) => answers.map((answer) => answer.ms).sort((a, b) => a - b);

    // Token verification on this thread, for each algorithm access tokens may use.
    await waitForRedis(redisClient);
    const verification: { alg: string; pair: { raw: number; uncached: number }; others: Record<string, number> }[] = [];
    for (const alg of ACCESS_TOKEN_ALGORITHMS) {
      const { jwk, token } = await accessToken(alg);
      const keys = await StaticKeySource.fromJwks({ keys: [jwk] });
      const jwks = createLocalJWKSet({ keys: [jwk] });
      const uncached = new TokenVerifier({ keys, issuer: ISSUER, audience: 'galion' });
      const cached = new TokenVerifier({ keys, issuer: ISSUER, audience: 'galion', cache: { maxEntries: 10_000, maxAgeMs: 60_000 } });
      const withDenylist = new TokenVerifier({
        keys,
        issuer: ISSUER,
        audience: 'galion',
        cache: { maxEntries: 10_000, maxAgeMs: 60_000 },
        denylist: new StoreDenylist(new RedisStore(redisClient, 'bench:')),
      });
      const raw = rawCheck(token, jwk, alg);
      // The target's pair alone, side by side in short rounds, so the machine's other load touches both alike.
      const pair = await interleaved({ raw, uncached: () => uncached.verify(token) }, Math.max(4, seconds / 2), 20);
      const others = await interleaved(
        {
          raw,
          // jose's verify is WebCrypto's, which runs on libuv's pool: not on this thread alone.
          'jose jwtVerify (the old path)': () => jwtVerify(token, jwks, { issuer: ISSUER, audience: 'galion', typ: ACCESS_TOKEN_TYPE }),
          'verifier, cached': () => cached.verify(token),
          'verifier, cached + Redis denylist': () => withDenylist.verify(token),
        },
        Math.max(4, seconds / 2),
      );
      verification.push({ alg, pair: { raw: pair.raw!, uncached: pair.uncached! }, others });
    }

    const widths = [36, 10, 9, 9, 22, 26];
    const out = [
      '',
      `Auth benchmark: ${concurrency} keep-alive clients, ${seconds} s per figure (in alternating rounds), argon2id m=${argon2.memoryKib} KiB t=${argon2.timeCost} p=1, ${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
      row(['Reads (auth process)', 'req/s', 'p50 ms', 'p99 ms', 'answers', 'CPU µs: auth / PG / Redis'], widths),
      ...(
        [
          ['GET /me, address confirmed', meFigures, 'me'],
          ['GET /me, address not confirmed', meUnverifiedFigures, 'meUnverified'],
          ['GET /livez (baseline)', livezFigures, 'livez'],
        ] as const
      ).map(([label, figures, name]) =>
        row([label, fmt(figures.perSecond), fmt(figures.p50, 1), fmt(figures.p99, 1), figures.statuses, cpuPerRequest(name)], widths),
      ),
      ratioLine('/me (address confirmed) to /livez throughput', meFigures.perSecond / livezFigures.perSecond, TARGETS.meToLivez),
      `  /me (address not confirmed) to /livez throughput: ${fmt(meUnverifiedFigures.perSecond / livezFigures.perSecond, 2)}`,
      '',
      row(['Login', 'per s', 'p50 ms', 'p99 ms', 'answers'], widths),
      row(
        [
          `raw argon2.verify, ${hashing} at once`,
          fmt(rawRate, 1),
          '',
          '',
          `${fmt(rawRate / cpus().length, 1)} per core`,
          `${fmt(rawCpuMs, 2)} ms of CPU each`,
        ],
        widths,
      ),
      row([`POST /login, ${concurrency} clients`, fmt(login.perSecond, 1), fmt(login.p50, 0), fmt(login.p99, 0), login.statuses], widths),
      ratioLine('login to raw hash rate', login.perSecond / rawRate, TARGETS.loginToRaw),
      `  CPU per login ${fmt(loginCpuMs, 2)} ms: hashing threads ${loginMs(loginCpu.all - loginCpu.main)}, auth's main thread ${loginMs(loginCpu.main)}, PostgreSQL ${loginMs(loginCpu.postgres)}, Redis ${loginMs(loginCpu.redis)}; per CPU-second, logins to raw hashes: ${fmt(rawCpuMs / loginCpuMs, 2)}`,
      `  burst of ${burstSize} logins at once: ${tally(burst.map((answer) => (answer.status ? `${answer.status}${answer.status === 503 ? ` ${errorCodeOf(answer)}` : ''}` : answer.failure)))}`,
      `  refused (503) p50 / p99: ${fmt(percentile(msOf(refused), 50), 1)} / ${fmt(percentile(msOf(refused), 99), 1)} ms; accepted (200) p50 / p99 / max: ${fmt(percentile(msOf(accepted), 50))} / ${fmt(percentile(msOf(accepted), 99))} / ${fmt(msOf(accepted).at(-1) ?? 0)} ms`,
      '',
      ...verification.flatMap(({ alg, pair, others }) => [
        row([`Token verification, ${alg} (one thread)`, 'ops/s', 'vs raw'], widths),
        row(['raw crypto.verify (baseline)', fmt(pair.raw), '1.00'], widths),
        row(['verifier, uncached', fmt(pair.uncached), fmt(pair.uncached / pair.raw, 2)], widths),
        ...Object.entries(others)
          .filter(([name]) => name !== 'raw')
          .map(([name, ops]) => row([name, fmt(ops), fmt(ops / others.raw!, 2)], widths)),
        ratioLine(`uncached verifier to raw crypto.verify (${alg})`, pair.uncached / pair.raw, TARGETS.verification),
        '',
      ]),
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await redisClient.quit();
    await stopProcess(auth);
    await mail.close();
    await Promise.all([postgres.stop(), redis.stop()]);
  }
};
