import { createRedis, ensureDatabaseExists, MemoryStore, RedisStore, waitForRedis } from '@galion/kit';
import { freePort, startPostgres, startRedis } from '@galion/localdeps';
import { manifest, serviceMain } from '@galion/manifest';
import { exportPrivateJwk, generateSigningKey, RemoteJwks, StaticKeySource, StoreDenylist, TokenVerifier } from '@galion/tokens';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { fmt, opsPerSecond, row, runLoad, startProcess, stopProcess, type LoadResult } from './load.js';

const AUTH_MAIN = serviceMain(manifest.get('auth'));

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

export interface AuthBenchOptions {
  seconds: number;
  concurrency: number;
}

/**
 * Auth figures in one run, against a real auth process on real PostgreSQL and Redis: login
 * throughput and latency at the configured argon2 cost, GET /me, and token verification
 * through the shared module, each next to a baseline measured the same way.
 */
export const benchAuth = async ({ seconds, concurrency }: AuthBenchOptions): Promise<void> => {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = postgres.urlFor('bench_auth');
  await ensureDatabaseExists(databaseUrl);
  const key = await generateSigningKey();
  const auth = await startProcess(
    AUTH_MAIN,
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      MIGRATE_ON_START: 'true',
      AUTH_JWT_KEYS: JSON.stringify({ keys: [exportPrivateJwk(key)] }),
      LOG_LEVEL: 'warn',
      DATABASE_POOL_MAX: '20',
    },
    `${base}/readyz`,
  );
  try {
    const users = await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const user = { email: `bench${i}@example.com`, password: 'benchmark passphrase', name: `Bench ${i}` };
        await post(`${base}/api/v1/auth/register`, user);
        return user;
      }),
    );
    const tokens: string[] = [];
    for (const user of users) {
      const response = await post(`${base}/api/v1/auth/login`, { email: user.email, password: user.password });
      tokens.push(((await response.json()) as { access_token: string }).access_token);
    }

    const login = await runLoad({ concurrency, seconds }, async (client) => {
      const user = users[client]!;
      const response = await post(`${base}/api/v1/auth/login`, { email: user.email, password: user.password });
      await response.arrayBuffer();
      return response.status === 200;
    });
    const me = await runLoad({ concurrency, seconds }, async (client) => {
      const response = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${tokens[client]}` } });
      await response.arrayBuffer();
      return response.status === 200;
    });
    const livez = await runLoad({ concurrency, seconds }, async () => {
      const response = await fetch(`${base}/livez`);
      await response.arrayBuffer();
      return response.status === 200;
    });

    const jwks = (await (await fetch(`${base}/api/v1/auth/.well-known/jwks.json`)).json()) as { keys: never[] };
    const issuer = 'http://localhost:8080/api/v1/auth';
    const token = tokens[0]!;
    const redisClient = createRedis(redis.url);
    await waitForRedis(redisClient);
    const verifiers = {
      'jose jwtVerify (baseline)': () => jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: 'galion' }),
      'verifier, static keys': async () => {
        const verifier = new TokenVerifier({ keys: await StaticKeySource.fromJwks(jwks), issuer, audience: 'galion' });
        return () => verifier.verify(token);
      },
      'verifier, remote JWKS (cached)': async () => {
        const verifier = new TokenVerifier({
          keys: new RemoteJwks({ url: `${base}/api/v1/auth/.well-known/jwks.json` }),
          issuer,
          audience: 'galion',
        });
        return () => verifier.verify(token);
      },
      'verifier + in-memory denylist': async () => {
        const verifier = new TokenVerifier({
          keys: await StaticKeySource.fromJwks(jwks),
          issuer,
          audience: 'galion',
          denylist: new StoreDenylist(new MemoryStore()),
        });
        return () => verifier.verify(token);
      },
      'verifier + Redis denylist': async () => {
        const verifier = new TokenVerifier({
          keys: await StaticKeySource.fromJwks(jwks),
          issuer,
          audience: 'galion',
          denylist: new StoreDenylist(new RedisStore(redisClient, 'bench:')),
        });
        return () => verifier.verify(token);
      },
    };
    const baselineSet = createLocalJWKSet(jwks);
    const verification: [string, number][] = [];
    for (const [name, make] of Object.entries(verifiers)) {
      const work =
        name === 'jose jwtVerify (baseline)'
          ? () => jwtVerify(token, baselineSet, { issuer, audience: 'galion' })
          : await (make as () => Promise<() => Promise<unknown>>)();
      await opsPerSecond(0.5, work);
      verification.push([name, await opsPerSecond(Math.max(2, seconds / 2), work)]);
    }
    await redisClient.quit();

    const widths = [34, 12, 10, 10, 10];
    const line = (name: string, result: LoadResult) =>
      row([name, fmt(result.perSecond), fmt(result.p50Ms, 1), fmt(result.p99Ms, 1), String(result.errors)], widths);
    const out = [
      '',
      `Auth benchmark: ${concurrency} concurrent clients, ${seconds} s per run, argon2id m=${process.env.AUTH_ARGON2_MEMORY_KIB ?? 19456} KiB t=${process.env.AUTH_ARGON2_TIME_COST ?? 2} p=1`,
      row(['HTTP (separate server process)', 'req/s', 'p50 ms', 'p99 ms', 'errors'], widths),
      line('POST /api/v1/auth/login', login),
      line('GET /api/v1/auth/me', me),
      line('GET /livez (baseline)', livez),
      `  ratio /me to /livez throughput: ${fmt(me.perSecond / livez.perSecond, 2)}`,
      `  logins per second per core: ${fmt(login.perSecond / 2, 1)}`,
      '',
      row(['Token verification (one thread)', 'ops/s', 'vs jose'], [34, 12, 10]),
      ...verification.map(([name, ops]) => row([name, fmt(ops), fmt(ops / verification[0]![1], 2)], [34, 12, 10])),
      '',
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await stopProcess(auth);
    await Promise.all([postgres.stop(), redis.stop()]);
  }
};
