import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createHttpApp, createLogger, createMetrics, ensureDatabaseExists, Health, listen, ApiRouter } from '@galion/kit';
import { freePort, startPostgres, startRedis, stopWithThisProcess } from '@galion/localdeps';
import { manifest, serviceMain } from '@galion/manifest';
import { authOf, exportPrivateJwk, generateSigningKey, RemoteJwks, tokenGuards, TokenVerifier } from '@galion/tokens';
import { Pool } from 'undici';
import { fmt, row, runLoad, startProcess, stopProcess, type LoadResult } from './load.js';

const AUTH_MAIN = serviceMain(manifest.get('auth'));
const USERS_MAIN = serviceMain(manifest.get('users'));
const GATEWAY_MAIN = serviceMain(manifest.get('gateway'));

export interface GatewayBenchOptions {
  seconds: number;
  concurrency: number;
}

/**
 * The stand-in for `GET /api/v1/users/me` when this file runs as a program (BENCH_ROLE=upstream):
 * a kit app that verifies the bearer token with the shared verifier against auth's JWKS and
 * answers a JSON profile, as the users service does from its cache.
 */
const serveStandIn = async () => {
  const logger = createLogger({ service: 'users-stand-in', level: 'warn' });
  const verifier = new TokenVerifier({
    keys: new RemoteJwks({ url: process.env.AUTH_JWKS_URL!, logger }),
    issuer: 'http://localhost:8080/api/v1/auth',
    audience: 'galion',
  });
  const api = new ApiRouter(tokenGuards(verifier)).route({
    method: 'get',
    path: '/api/v1/users/me',
    access: 'bearer',
    summary: 'The caller’s profile',
    responses: { 200: 'The profile' },
    handler: ({ res }) => {
      const { sub, role } = authOf(res);
      return {
        body: {
          id: sub,
          role,
          name: 'Bench User',
          bio: 'Measures proxies for a living.',
          avatar_url: null,
          locale: 'en-GB',
          timezone: 'Europe/London',
          preferences: { theme: 'dark', newsletter: false },
          created_at: '2026-01-01T00:00:00.000Z',
          updated_at: '2026-01-01T00:00:00.000Z',
        },
      };
    },
  });
  const app = createHttpApp({ service: 'users', logger, metrics: createMetrics(), health: new Health() }, api);
  await listen(app, Number(process.env.PORT), '127.0.0.1');
};

/**
 * The floor for any proxy built on Node (BENCH_ROLE=floor): node:http's server and client over a
 * keep-alive agent, forwarding to UPSTREAM_URL with nothing else done (no token, no limit, no
 * header rewriting). What the gateway costs above it is the gateway's own; what this costs above
 * nginx is Node's HTTP stack.
 */
const serveFloor = () => {
  const upstream = new URL(process.env.UPSTREAM_URL!);
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
  createServer((req, res) => {
    if (req.url === '/livez') {
      res.end('alive');
      return;
    }
    const forwarded = request(
      {
        agent,
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  }).listen(Number(process.env.PORT), '127.0.0.1');
};

/**
 * The same floor with undici's pool as the upstream client (BENCH_ROLE=floor-undici): node:http's
 * server still, nothing else done. What it saves against the node:http floor is what the
 * gateway's proxy would save by forwarding with undici.
 */
const serveUndiciFloor = () => {
  const upstream = new URL(process.env.UPSTREAM_URL!);
  const pool = new Pool(upstream.origin, { connections: 256, keepAliveTimeout: 3_000 });
  createServer((req, res) => {
    if (req.url === '/livez') {
      res.end('alive');
      return;
    }
    const bodyless = req.method === 'GET' || req.method === 'HEAD';
    pool.stream(
      { method: req.method as 'GET', path: req.url!, headers: { ...req.headers, host: upstream.host }, body: bodyless ? undefined : req },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, headers as Record<string, string | string[]>);
        return res;
      },
      (error) => {
        if (error) res.destroy();
      },
    );
  }).listen(Number(process.env.PORT), '127.0.0.1');
};

/** nginx (one worker, like the one Node thread of the gateway) proxying to `upstream` over keep-alive connections. */
const startNginx = async (upstreamUrl: string, port: number): Promise<{ child: ChildProcess; dir: string }> => {
  const which = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  const binary = which.stdout.trim().split('\n')[0];
  if (!binary) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const dir = mkdtempSync(path.join(tmpdir(), 'galion-nginx-'));
  const upstream = new URL(upstreamUrl);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream users { server ${upstream.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://users;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  stopWithThisProcess(child, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}`);
    const status = await fetch(`http://127.0.0.1:${port}/livez`)
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 200) return { child, dir };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start: ${output}`);
};

/** A server to measure, and how to read the CPU time of the processes that serve it. */
interface Target {
  name: string;
  base: string;
  cpu: Record<string, () => Promise<number> | number>;
}

/** CPU seconds a Node service has used, from its own /metrics. */
const nodeCpuSeconds = async (base: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? NaN);
};

/** CPU seconds of a process and its children (nginx's worker), from /proc. */
const procCpuSeconds = (pid: number): number => {
  const ticks = (id: string) => {
    const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return [String(pid), ...children].reduce((sum, id) => sum + ticks(id), 0) / 100;
};

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Gateway figures in one run, every server in a process of its own: `GET /api/v1/users/me`
 * straight at the users service, through the gateway (token verified, rate-limited per user on
 * Redis, proxied), through nginx proxying the same upstream, and through a bare node:http proxy
 * (the floor of any proxy on Node's HTTP stack). Once against the real users
 * service (when built) and once against a stand-in that only verifies the token, which shows
 * the proxy cost most plainly.
 */
export const benchGateway = async ({ seconds, concurrency }: GatewayBenchOptions): Promise<void> => {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const processes: ChildProcess[] = [];
  let nginxDir: string | undefined;
  const start = async (script: string, env: Record<string, string>, readyUrl: string) => {
    const child = await startProcess(script, { LOG_LEVEL: 'warn', ...env }, readyUrl);
    processes.push(child);
    return child;
  };
  try {
    const [authPort, usersPort, standInPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const authUrl = `http://127.0.0.1:${authPort}`;
    const jwksUrl = `${authUrl}/api/v1/auth/.well-known/jwks.json`;
    const authDb = postgres.urlFor('bench_gw_auth');
    await ensureDatabaseExists(authDb);
    const key = await generateSigningKey();
    await start(
      AUTH_MAIN,
      {
        PORT: String(authPort),
        HOST: '127.0.0.1',
        DATABASE_URL: authDb,
        REDIS_URL: redis.url,
        MIGRATE_ON_START: 'true',
        AUTH_JWT_KEYS: JSON.stringify({ keys: [exportPrivateJwk(key)] }),
      },
      `${authUrl}/readyz`,
    );

    const upstreams: { label: string; url: string }[] = [];
    if (existsSync(USERS_MAIN)) {
      const usersDb = postgres.urlFor('bench_gw_users');
      await ensureDatabaseExists(usersDb);
      await start(
        USERS_MAIN,
        {
          PORT: String(usersPort),
          HOST: '127.0.0.1',
          DATABASE_URL: usersDb,
          REDIS_URL: redis.url,
          MIGRATE_ON_START: 'true',
          AUTH_URL: authUrl,
          AUTH_JWKS_URL: jwksUrl,
          DATABASE_POOL_MAX: '20',
        },
        `http://127.0.0.1:${usersPort}/readyz`,
      );
      upstreams.push({ label: 'users service', url: `http://127.0.0.1:${usersPort}` });
    }
    await start(
      __filename,
      { BENCH_ROLE: 'upstream', PORT: String(standInPort), AUTH_JWKS_URL: jwksUrl },
      `http://127.0.0.1:${standInPort}/livez`,
    );
    upstreams.push({ label: 'token-checking stand-in', url: `http://127.0.0.1:${standInPort}` });

    const tokens: string[] = [];
    for (let i = 0; i < concurrency; i += 1) {
      const user = { email: `gwbench${i}@example.com`, password: 'benchmark passphrase', name: `Bench ${i}` };
      await post(`${authUrl}/api/v1/auth/register`, user);
      const login = await post(`${authUrl}/api/v1/auth/login`, { email: user.email, password: user.password });
      tokens.push(((await login.json()) as { access_token: string }).access_token);
    }

    const load = (base: string, clients: number, runSeconds: number, warmupSeconds: number) =>
      runLoad({ concurrency: clients, seconds: runSeconds, warmupSeconds }, async (client) => {
        const response = await fetch(`${base}/api/v1/users/me`, { headers: { authorization: `Bearer ${tokens[client % tokens.length]}` } });
        await response.arrayBuffer();
        return response.status === 200;
      });
    /** One run with the CPU each named process spent during it. */
    const measured = async (base: string, clients: number, runSeconds: number, cpu: Record<string, () => Promise<number> | number>) => {
      const read = async () =>
        Object.fromEntries(await Promise.all(Object.entries(cpu).map(async ([name, get]) => [name, await get()] as const)));
      const before = await read();
      const result = await load(base, clients, runSeconds, 0);
      const after = await read();
      return { result, cpu: Object.fromEntries(Object.keys(cpu).map((name) => [name, after[name]! - before[name]!])) };
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    /**
     * The targets measured in turns (direct, gateway, nginx, direct, ...), so that load from
     * elsewhere on the machine falls on all of them alike. Throughput is over all turns;
     * percentiles are the median of the turns'; CPU per request is over all turns.
     */
    const compare = async (
      clients: number,
      targets: Target[],
    ): Promise<Map<string, { result: LoadResult; microsPerRequest: Record<string, number> }>> => {
      const rounds = Math.max(1, Math.min(5, Math.round(seconds / 2)));
      const turns = new Map(targets.map((target) => [target.name, [] as Awaited<ReturnType<typeof measured>>[]]));
      for (const target of targets) await load(target.base, clients, 1, 0);
      for (let round = 0; round < rounds; round += 1) {
        for (const target of targets) turns.get(target.name)!.push(await measured(target.base, clients, seconds / rounds, target.cpu));
      }
      return new Map(
        [...turns].map(([name, runs]) => {
          const requests = runs.reduce((sum, run) => sum + run.result.requests, 0);
          const time = runs.reduce((sum, run) => sum + run.result.seconds, 0);
          const result: LoadResult = {
            requests,
            errors: runs.reduce((sum, run) => sum + run.result.errors, 0),
            seconds: time,
            perSecond: requests / time,
            p50Ms: median(runs.map((run) => run.result.p50Ms)),
            p99Ms: median(runs.map((run) => run.result.p99Ms)),
          };
          const processes = Object.keys(runs[0]!.cpu);
          const microsPerRequest = Object.fromEntries(
            processes.map((process) => [process, (runs.reduce((sum, run) => sum + run.cpu[process]!, 0) * 1e6) / requests]),
          );
          return [name, { result, microsPerRequest }];
        }),
      );
    };

    const widths = [44, 10, 9, 9, 8];
    const line = (name: string, result: LoadResult) =>
      row([name, fmt(result.perSecond), fmt(result.p50Ms, 2), fmt(result.p99Ms, 2), String(result.errors)], widths);
    const out = [
      '',
      `Gateway benchmark: GET /api/v1/users/me, ${concurrency} concurrent clients (and 1 for latency), ${seconds} s per run, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at start`,
    ];
    for (const upstream of upstreams) {
      const [gwPort, ngPort] = await Promise.all([freePort(), freePort()]);
      const gatewayUrl = `http://127.0.0.1:${gwPort}`;
      await start(
        GATEWAY_MAIN,
        {
          PORT: String(gwPort),
          HOST: '127.0.0.1',
          AUTH_URL: authUrl,
          USERS_URL: upstream.url,
          ANALYTICS_URL: upstream.url,
          POSTS_URL: upstream.url,
          FEED_URL: upstream.url,
          MEDIA_URL: upstream.url,
          REDIS_URL: redis.url,
          RATE_LIMIT_PER_USER: '10000000',
          RATE_LIMIT_PER_IP: '10000000',
          ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
        },
        `${gatewayUrl}/livez`,
      );
      /** A bare proxy of this file (BENCH_ROLE) in front of the upstream: its process and URL. */
      const startBareProxy = async (role: 'floor' | 'floor-undici') => {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const child = await start(__filename, { BENCH_ROLE: role, PORT: String(port), UPSTREAM_URL: upstream.url }, `${url}/livez`);
        return { child, url };
      };
      const { child: floor, url: floorUrl } = await startBareProxy('floor');
      const { child: undiciFloor, url: undiciUrl } = await startBareProxy('floor-undici');
      const nginx = await startNginx(upstream.url, ngPort);
      processes.push(nginx.child);
      nginxDir = nginx.dir;
      const nginxUrl = `http://127.0.0.1:${ngPort}`;
      const upstreamCpu = () => nodeCpuSeconds(upstream.url);

      const targets: Target[] = [
        { name: 'direct', base: upstream.url, cpu: { upstream: upstreamCpu } },
        { name: 'gateway', base: gatewayUrl, cpu: { gateway: () => nodeCpuSeconds(gatewayUrl), upstream: upstreamCpu } },
        { name: 'nginx', base: nginxUrl, cpu: { nginx: () => procCpuSeconds(nginx.child.pid!), upstream: upstreamCpu } },
        { name: 'floor', base: floorUrl, cpu: { floor: () => procCpuSeconds(floor.pid!), upstream: upstreamCpu } },
        { name: 'undici', base: undiciUrl, cpu: { undici: () => procCpuSeconds(undiciFloor.pid!), upstream: upstreamCpu } },
      ];
      const loaded = await compare(concurrency, targets);
      const single = await compare(1, targets);
      const direct = loaded.get('direct')!;
      const gateway = loaded.get('gateway')!;
      const viaNginx = loaded.get('nginx')!;
      const viaFloor = loaded.get('floor')!;
      const viaUndici = loaded.get('undici')!;
      const directOne = single.get('direct')!.result;
      const gatewayOne = single.get('gateway')!.result;
      const nginxOne = single.get('nginx')!.result;
      const floorOne = single.get('floor')!.result;
      const undiciOne = single.get('undici')!.result;
      const gatewayCpu = gateway.microsPerRequest.gateway!;
      const nginxCpu = viaNginx.microsPerRequest.nginx!;
      const floorCpu = viaFloor.microsPerRequest.floor!;
      const undiciCpu = viaUndici.microsPerRequest.undici!;
      const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
      const throughputShare = (gateway.result.perSecond / direct.result.perSecond) * 100;
      const addedOne = gatewayOne.p50Ms - directOne.p50Ms;
      const us = (value: number | undefined) => `${fmt(value ?? NaN, 0)} µs`;
      out.push(
        '',
        row([`upstream: ${upstream.label}`, 'req/s', 'p50 ms', 'p99 ms', 'errors'], widths),
        line('direct', direct.result),
        line('through the gateway (verify, limit, proxy)', gateway.result),
        line('through nginx (proxy only, 1 worker)', viaNginx.result),
        line('through bare node:http (proxy only)', viaFloor.result),
        line('node:http server + undici client (proxy only)', viaUndici.result),
        line('direct, 1 client', directOne),
        line('through the gateway, 1 client', gatewayOne),
        line('through nginx, 1 client', nginxOne),
        line('through bare node:http, 1 client', floorOne),
        line('node:http server + undici client, 1 client', undiciOne),
        `  gateway CPU per request ${fmt(gatewayCpu / nginxCpu, 1)}× nginx's (target ≤ 3×: ${met(gatewayCpu <= 3 * nginxCpu)}); bare node:http ${fmt(floorCpu / nginxCpu, 1)}× nginx's`,
        `  gateway throughput ${fmt(throughputShare, 0)}% of direct (target ≥ 75%: ${met(throughputShare >= 75)}); added p50 at 1 client ${fmt(addedOne, 2)} ms (target < 0.5 ms: ${met(addedOne < 0.5)}), ${fmt(gateway.result.p50Ms - direct.result.p50Ms, 2)} ms at ${concurrency}`,
        `  nginx:   ${fmt((viaNginx.result.perSecond / direct.result.perSecond) * 100, 0)}% of direct throughput; added p50 ${fmt(nginxOne.p50Ms - directOne.p50Ms, 2)} ms at 1 client; bare node:http ${fmt((viaFloor.result.perSecond / direct.result.perSecond) * 100, 0)}%, added p50 ${fmt(floorOne.p50Ms - directOne.p50Ms, 2)} ms`,
        `  node:http server + undici client: ${fmt(undiciCpu / nginxCpu, 1)}× nginx's CPU, ${fmt((viaUndici.result.perSecond / direct.result.perSecond) * 100, 0)}% of direct, added p50 ${fmt(undiciOne.p50Ms - directOne.p50Ms, 2)} ms at 1 client`,
        `  CPU per request: upstream ${us(direct.microsPerRequest.upstream)}, gateway ${us(gatewayCpu)}, nginx ${us(nginxCpu)}, bare node:http ${us(floorCpu)}, with undici ${us(undiciCpu)}`,
      );
      await Promise.all([stopProcess(nginx.child), stopProcess(floor), stopProcess(undiciFloor)]);
      rmSync(nginx.dir, { recursive: true, force: true });
      nginxDir = undefined;
    }
    out.push('');
    process.stdout.write(out.join('\n'));
  } finally {
    await Promise.all(processes.map((child) => stopProcess(child)));
    if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
    await Promise.all([postgres.stop(), redis.stop()]);
  }
};

if (require.main === module && process.env.BENCH_ROLE === 'floor') serveFloor();
if (require.main === module && process.env.BENCH_ROLE === 'floor-undici') serveUndiciFloor();
if (require.main === module && process.env.BENCH_ROLE === 'upstream') {
  serveStandIn().catch((error: unknown) => {
    process.stderr.write(`stand-in failed: ${String(error)}\n`);
    process.exit(1);
  });
}
