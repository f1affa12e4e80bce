import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startPlatform } from '@galion/launcher';
import { KeepAliveConnection, type Answer } from './keep-alive.js';
import { fmt, percentile, pooled, row, tally } from './load.js';
import { call, signUp, sumOf, type SignedIn } from './platform-api.js';

/** Past this a request counts as unanswered (a timeout): the client gives up and reconnects. */
const ANSWER_TIMEOUT_MS = 5_000;
/** The answer time every request should meet, shed and rate-limited ones included. */
const FAST_MS = 1_000;

export interface GatewayLoadOptions {
  seconds: number;
  concurrency: number;
}

type VirtualUser = SignedIn;

interface Outcome {
  /** Which kind of request (Operation.kind). */
  kind: string;
  ms: number;
  status?: number;
  /** The `error` of a 503 body: which bound shed it (`overloaded`, `upstream_overloaded`, ...). */
  code?: string;
  /** A connection error (ECONNRESET, ECONNREFUSED, ...). */
  failure?: string;
  timedOut?: boolean;
  /** The first request on its connection (so its time includes opening it). */
  fresh?: boolean;
  /** When it was sent, in seconds from the start of the run. */
  at?: number;
}

interface Operation {
  /** A short name for the figures, e.g. `GET /users/me`. */
  kind: string;
  method: 'GET' | 'PATCH';
  path: string;
  body?: string;
}

interface RunResult {
  outcomes: Outcome[];
  seconds: number;
  connections: number;
  metrics: Record<string, number>;
  /** CPU seconds each service process (and the load generator) spent during the run. */
  cpu: Record<string, number>;
  generatorDelayP99Ms: number;
}

/** The soft limit on open files of this process (the services it starts inherit it). */
const openFileLimit = (): number => {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
};

/** The gateway's counters that explain a run: requests shed by each bound, and rate-limited. */
const gatewayCounters = async (gatewayUrl: string): Promise<Record<string, number>> => {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return {
    shedByProcess: sumOf(text, 'http_server_shed_total'),
    shedByUpstream: sumOf(text, 'gateway_upstream_shed_total'),
    rateLimited: sumOf(text, 'gateway_rate_limited_total'),
  };
};

/** CPU seconds a service process has used, from its own /metrics. */
const cpuSeconds = async (base: string): Promise<number> =>
  sumOf(await (await fetch(`${base}/metrics`)).text(), 'process_cpu_seconds_total');

const readCpu = async (services: Record<string, string>): Promise<Record<string, number>> =>
  Object.fromEntries(await Promise.all(Object.entries(services).map(async ([name, url]) => [name, await cpuSeconds(url)] as const)));

/** A request's outcome from its answer: which bound shed a 503, and a timeout told apart from a connection error. */
const outcomeOf = (kind: string, answer: Answer, connected: boolean): Outcome => {
  const { ms } = answer;
  // Never connected: a connection error; connected but unanswered: a timeout.
  if (answer.timedOut) return connected ? { kind, ms, timedOut: true } : { kind, ms, failure: 'connect timed out' };
  if (answer.status === undefined) return { kind, ms, failure: answer.failure };
  let code: string | undefined;
  // A 503 says in its body which bound shed the request.
  if (answer.status === 503) {
    try {
      code = (JSON.parse(answer.body?.toString('utf8') ?? '') as { error?: string }).error;
    } catch {
      code = 'unreadable';
    }
  }
  return { kind, ms, status: answer.status, code };
};

const requestOf = (operation: Operation, port: number, token: string): string => {
  const head = `${operation.method} ${operation.path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${token}\r\n`;
  return operation.body === undefined
    ? head + '\r\n'
    : `${head}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(operation.body)}\r\n\r\n${operation.body}`;
};

/**
 * Every virtual user on a keep-alive connection of its own, all opened at once (a burst of
 * connections), each sending its next request as soon as the last is answered (closed loop, no
 * pause: Retry-After is not honoured, so shedding and rate limits are hit as hard as they can be).
 */
const runConnections = async (
  gatewayUrl: string,
  services: Record<string, string>,
  users: VirtualUser[],
  seconds: number,
  operations: (user: VirtualUser, n: number) => Operation,
): Promise<RunResult> => {
  const port = Number(new URL(gatewayUrl).port);
  const outcomes: Outcome[] = [];
  let connections = 0;
  const before = await gatewayCounters(gatewayUrl);
  const cpuBefore = await readCpu(services);
  const ownCpuBefore = process.cpuUsage();
  // The load generator's own delay is in every figure: shown, so a busy generator is not taken for a slow gateway.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    users.map(async (user, index) => {
      let connection: KeepAliveConnection | undefined;
      // Each user starts at another place in the mix, so the kinds of request are spread in time.
      for (let n = index; performance.now() < deadline; n += 1) {
        let fresh = false;
        if (!connection || connection.dead) {
          connection = new KeepAliveConnection(port, ANSWER_TIMEOUT_MS);
          connections += 1;
          fresh = true;
        }
        const operation = operations(user, n);
        const request = requestOf(operation, port, user.token);
        const at = (performance.now() - started) / 1000;
        const outcome = outcomeOf(operation.kind, await connection.exchange(request), connection.connected);
        if (fresh) outcome.fresh = true;
        outcome.at = at;
        outcomes.push(outcome);
      }
      connection?.close();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  delay.disable();
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const after = await gatewayCounters(gatewayUrl);
  const cpuAfter = await readCpu(services);
  const metrics = Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - (before[name] ?? 0)]));
  const cpu = Object.fromEntries(Object.keys(cpuAfter).map((name) => [name, cpuAfter[name]! - cpuBefore[name]!]));
  cpu['load generator'] = (ownCpu.user + ownCpu.system) / 1e6;
  return { outcomes, seconds: elapsed, connections, metrics, cpu, generatorDelayP99Ms: delay.percentile(99) / 1e6 };
};

/** Reads and writes as an account page would: mostly reads of one's own profile, some writes. */
const mixedOperations =
  (everyone: VirtualUser[]) =>
  (user: VirtualUser, n: number): Operation => {
    const other = everyone[(n * 7919) % everyone.length]!;
    switch (n % 10) {
      case 2:
      case 7:
        return { kind: 'GET /users/{id}', method: 'GET', path: `/api/v1/users/${other.id}` };
      case 3:
      case 8:
        return { kind: 'PATCH /users/me', method: 'PATCH', path: '/api/v1/users/me', body: JSON.stringify({ bio: `Load test, request ${n}.` }) };
      case 5:
        return { kind: 'GET /analytics/…/events', method: 'GET', path: `/api/v1/analytics/users/${user.id}/events?limit=10` };
      default:
        return { kind: 'GET /users/me', method: 'GET', path: '/api/v1/users/me' };
    }
  };

interface Summary {
  requests: number;
  answered: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  fastShare: number;
  failures: number;
  timeouts: number;
  /** Over 1 s or unanswered: how many, how many of those were the first on a new connection, how many sent in the first second. */
  slow: { count: number; fresh: number; firstSecond: number };
  statuses: string;
  failureKinds: string;
  connections: number;
  counters: Record<string, number>;
  /** Per kind of request: count, p50, p99, share within 1 s. */
  kinds: string[];
  /** Cores each service kept busy on average. */
  cores: string;
  generatorDelayP99Ms: number;
}

const summarize = (run: RunResult): Summary => {
  const answered = run.outcomes.filter((outcome) => outcome.status !== undefined);
  const times = answered.map((outcome) => outcome.ms).sort((a, b) => a - b);
  const count = (key: (outcome: Outcome) => string | undefined) => tally(run.outcomes.map(key));
  return {
    requests: run.outcomes.length,
    answered: answered.length,
    perSecond: answered.length / run.seconds,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1) ?? 0,
    fastShare: run.outcomes.length === 0 ? 0 : answered.filter((outcome) => outcome.ms <= FAST_MS).length / run.outcomes.length,
    failures: run.outcomes.filter((outcome) => outcome.failure !== undefined).length,
    timeouts: run.outcomes.filter((outcome) => outcome.timedOut).length,
    slow: (() => {
      const slow = run.outcomes.filter((outcome) => outcome.status === undefined || outcome.ms > FAST_MS);
      return {
        count: slow.length,
        fresh: slow.filter((outcome) => outcome.fresh).length,
        firstSecond: slow.filter((outcome) => (outcome.at ?? 0) < 1).length,
      };
    })(),
    statuses: count((outcome) => (outcome.status === undefined ? undefined : `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`)),
    failureKinds: count((outcome) => outcome.failure ?? (outcome.timedOut ? 'timeout' : undefined)),
    connections: run.connections,
    counters: run.metrics,
    kinds: [...new Set(run.outcomes.map((outcome) => outcome.kind))].sort().map((kind) => {
      const of = run.outcomes.filter((outcome) => outcome.kind === kind);
      const sorted = of.filter((outcome) => outcome.status !== undefined).map((outcome) => outcome.ms).sort((a, b) => a - b);
      const fast = of.filter((outcome) => outcome.status !== undefined && outcome.ms <= FAST_MS).length;
      return `${kind} ×${fmt(of.length)}: p50 ${fmt(percentile(sorted, 50), 0)} ms, p99 ${fmt(percentile(sorted, 99), 0)} ms, ${fmt((fast / of.length) * 100, 1)}% ≤ 1 s`;
    }),
    cores: Object.entries(run.cpu)
      .map(([name, secondsUsed]) => `${name} ${fmt(secondsUsed / run.seconds, 2)}`)
      .join(', '),
    generatorDelayP99Ms: run.generatorDelayP99Ms,
  };
};

/**
 * 1,000 concurrent keep-alive connections through the gateway of the distributed platform (one
 * process per service, real PostgreSQL, Redis and Kafka, all on loopback): 1,000 distinct users
 * doing mixed reads and writes, then all of them with one shared token (the rate-limited path).
 * Connection errors, unanswered requests, the share answered within 1 s, throughput, latency and
 * the statuses, for both runs side by side.
 */
export const benchGatewayLoad = async ({ seconds }: GatewayLoadOptions): Promise<void> => {
  const connections = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 1_000);
  const runSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? Math.min(30, Math.max(20, seconds)));
  // argon2 runs on auth's four libuv threads: more at once only queues there.
  const setupParallelism = Number(process.env.BENCH_LOAD_SETUP_PARALLELISM ?? 8);
  // This process holds one socket per connection, the gateway two (client and upstream side).
  const needed = connections * 2 + 1_024;
  if (openFileLimit() < needed) {
    throw new Error(`the open-file limit (${openFileLimit()}) is below the ${needed} this suite needs: run \`ulimit -n ${needed}\` first`);
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-load-'));
  chmodSync(dataDir, 0o711);
  const platform = await startPlatform({
    dataDir,
    output: 'ignore',
    env: { LOG_LEVEL: 'warn' },
    // For the set-up only: every registration and login comes from this one address. The load
    // itself never calls a credential route, so it meets the default per-user limits.
    serviceEnv: { gateway: { RATE_LIMIT_AUTH_PER_IP: '1000000' } },
  });
  try {
    const gatewayUrl = platform.gatewayUrl.replace('localhost', '127.0.0.1');
    const api = `${gatewayUrl}/api/v1`;
    const stamp = Date.now();

    // One user more than connections: the shared token of the second run has a budget of its own.
    const setupStarted = performance.now();
    const users = await pooled(
      Array.from({ length: connections + 1 }, (_, i) => i),
      setupParallelism,
      (i) => signUp(api, `load${i}`, stamp, `Load ${i}`),
    );
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    // Profiles exist and are public (so others may read them), as for users who have been here before.
    const warmStarted = performance.now();
    await pooled(users, 50, (user) => call(`${api}/users/me`, { method: 'PATCH', token: user.token, body: { is_public: true } }, [200]));
    const warmSeconds = (performance.now() - warmStarted) / 1000;

    const distinct = users.slice(0, connections);
    const shared = users[connections]!;
    const mixed = mixedOperations(distinct);
    const services = Object.fromEntries(Object.values(platform.services).map((service) => [service.name, service.url]));
    const distinctRun = summarize(await runConnections(gatewayUrl, services, distinct, runSeconds, mixed));
    // The per-user window is 60 s: the shared user has had no request yet, so it starts with a full budget.
    const sharedRun = summarize(
      await runConnections(
        gatewayUrl,
        services,
        distinct.map((user) => ({ id: user.id, token: shared.token })),
        runSeconds,
        (user, n) => mixed({ id: shared.id, token: shared.token }, n),
      ),
    );

    const widths = [30, 9, 9, 8, 8, 8, 8, 9, 9];
    const line = (name: string, s: Summary) =>
      row(
        [
          name,
          fmt(s.requests),
          fmt(s.perSecond),
          fmt(s.p50, 1),
          fmt(s.p99, 1),
          fmt(s.max, 0),
          `${fmt(s.fastShare * 100, 2)}%`,
          String(s.failures),
          String(s.timeouts),
        ],
        widths,
      );
    process.stdout.write(
      [
        '',
        `Gateway under 1,000 connections: ${fmt(connections)} concurrent keep-alive connections through the gateway (distributed mode: a process per service, PostgreSQL, Redis, Kafka), opened at once, each sending its next request as soon as the last is answered, ${fmt(runSeconds)} s per run, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`,
        `  mix per user: 5 GET /users/me, 2 GET /users/{someone else}, 2 PATCH /users/me, 1 GET /analytics/users/{self}/events in 10; no answer within ${fmt(ANSWER_TIMEOUT_MS)} ms is a timeout`,
        row(['run', 'requests', 'answers/s', 'p50 ms', 'p99 ms', 'max ms', '≤ 1 s', 'conn err', 'timeouts'], widths),
        line(`${fmt(connections)} distinct users`, distinctRun),
        line('one shared token', sharedRun),
        `  statuses, distinct users: ${distinctRun.statuses}`,
        `  statuses, shared token:   ${sharedRun.statuses}`,
        ...(distinctRun.failureKinds || sharedRun.failureKinds
          ? [`  failures: distinct users ${distinctRun.failureKinds || 'none'}; shared token ${sharedRun.failureKinds || 'none'}`]
          : []),
        ...[
          ['distinct users', distinctRun] as const,
          ['shared token', sharedRun] as const,
        ].map(
          ([name, s]) =>
            `  ${name}: ${fmt(s.connections)} connections opened; the gateway shed ${fmt(s.counters.shedByProcess ?? 0)} by its process bound, ${fmt(s.counters.shedByUpstream ?? 0)} by the upstream bound, rate-limited ${fmt(s.counters.rateLimited ?? 0)}; cores busy: ${s.cores} (its event-loop delay p99 ${fmt(s.generatorDelayP99Ms, 0)} ms); over 1 s or unanswered ${fmt(s.slow.count)} (${fmt(s.slow.fresh)} the first on a new connection, ${fmt(s.slow.firstSecond)} sent in the first second)\n    ${s.kinds.join('\n    ')}`,
        ),
        `  targets: 0 connection errors, 0 timeouts, 100% answered within 1 s (shed and rate-limited answers included)`,
        `  set-up: ${fmt(connections + 1)} registrations and logins through the gateway in ${fmt(setupSeconds, 1)} s (${fmt((connections + 1) / setupSeconds, 1)} users/s, ${setupParallelism} at a time: two argon2 hashes each), profiles made public in ${fmt(warmSeconds, 1)} s`,
        '',
      ].join('\n'),
    );
  } finally {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
