import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createDatabase } from '@galion/kit';
import { startPlatform, type Platform } from '@galion/launcher';
import { freePort, startPostgres } from '@galion/localdeps';
import { manifest, serviceMain } from '@galion/manifest';
import { errorCodeOf, KeepAliveConnection, type Answer } from './keep-alive.js';
import { fmt, percentile, row, sleep, startProcess, stopProcess, tally } from './load.js';
import { call, signUp, sumOf, type SignedIn } from './platform-api.js';
import { machineCoresBetween, machineCpu, serverCpu, serverCpuBetween, type ServerCpu } from './process-cpu.js';

/** Past this a request counts as unanswered: the client gives up on it and reconnects. */
const ANSWER_TIMEOUT_MS = 10_000;
const TARGET_EVENTS_PER_SECOND = 20_000;
const TARGET_P99_MS = 1_000;
const TRACK_PATH = '/api/v1/analytics/events';
/** The limits raised for the bench: one IP sends everything, 20 users send far more than a person would. */
const RAISED_LIMIT = '10000000';

export interface TrackingBenchOptions {
  seconds: number;
  concurrency: number;
}

/** One request's outcome, as the client saw it. */
interface Outcome {
  ms: number;
  status?: number;
  /** The `error` of a refusal's body. */
  code?: string;
  /** A connection error, or `timeout`. */
  failure?: string;
  accepted: number;
  refused: number;
}

/** A request's outcome from its answer: a 202 tells how many of the batch's events it took in. */
const outcomeOf = (answer: Answer): Outcome => {
  const { ms, status, failure } = answer;
  if (status === undefined) return { ms, failure, accepted: 0, refused: 0 };
  if (status === 202) {
    // The answer starts {"accepted":N,"refused":M,...}: no need to parse the 50 results.
    const head = answer.body?.toString('latin1', 0, 80) ?? '';
    return {
      ms,
      status,
      accepted: Number(/"accepted":(\d+)/.exec(head)?.[1] ?? 0),
      refused: Number(/"refused":(\d+)/.exec(head)?.[1] ?? 0),
    };
  }
  return { ms, status, code: errorCodeOf(answer), accepted: 0, refused: 0 };
};

const PAGES = ['/', '/pricing', '/docs/start', '/projects/42', '/blog/release-notes', '/account/billing'];
const NAMES = ['page_view', 'page_view', 'page_view', 'button_click', 'search', 'signup_started', 'checkout.completed'];
const PLANS = ['free', 'pro', 'team'];

/** A batch as a web app sends it: ids made by the client, the time now, the page, a couple of properties. */
const batchBody = (size: number, n: number): string => {
  const time = new Date().toISOString();
  const events = Array.from({ length: size }, (_, i) => {
    const k = n * size + i;
    return {
      name: NAMES[k % NAMES.length],
      id: randomUUID(),
      time,
      url: `https://galion.app${PAGES[k % PAGES.length]}`,
      properties: { plan: PLANS[k % PLANS.length], step: k % 7 },
    };
  });
  return JSON.stringify({ events });
};

const requestOf = (port: number, token: string, body: string): string =>
  `POST ${TRACK_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

interface Scrape {
  accepted: number;
  stored: number;
  /** analytics_app_event_latency_seconds: count at or below 1 s, and in all. */
  withinSecond: number;
  latencyCount: number;
  /** Time (s) and count of the 202s of the tracking route: in analytics, in the gateway, the gateway's wait on analytics. */
  analyticsSum: number;
  analyticsCount: number;
  gatewaySum: number;
  gatewayCount: number;
  upstreamSum: number;
  upstreamCount: number;
  /** Each source's process_cpu_seconds_total. */
  cpu: Record<string, number>;
  servers: ServerCpu;
}

const ROUTE_202 = [`route="${TRACK_PATH}"`, 'status_code="202"'];
const GATEWAY_POST_202 = ['method="POST"', 'status_code="202"'];

/** The processes whose /metrics are read, by name: the platform's services, and a separate analytics consumer when there is one. */
type Sources = Record<string, string>;

const scrape = async (sources: Sources): Promise<Scrape> => {
  const texts = Object.fromEntries(
    await Promise.all(Object.entries(sources).map(async ([name, url]) => [name, await (await fetch(`${url}/metrics`)).text()] as const)),
  );
  // The tracking API's counters and the consumer's, wherever each runs (one process, or API and consumer apart).
  const analytics = Object.entries(texts)
    .filter(([name]) => name.startsWith('analytics'))
    .map(([, text]) => text)
    .join('\n');
  const gateway = texts.gateway!;
  return {
    accepted: sumOf(analytics, 'analytics_tracked_events_total', ['outcome="accepted"']),
    stored: sumOf(analytics, 'analytics_app_events_stored_total'),
    withinSecond: sumOf(analytics, 'analytics_app_event_latency_seconds_bucket', ['le="1"']),
    latencyCount: sumOf(analytics, 'analytics_app_event_latency_seconds_count'),
    analyticsSum: sumOf(analytics, 'http_server_request_duration_seconds_sum', ROUTE_202),
    analyticsCount: sumOf(analytics, 'http_server_request_duration_seconds_count', ROUTE_202),
    gatewaySum: sumOf(gateway, 'http_server_request_duration_seconds_sum', GATEWAY_POST_202),
    gatewayCount: sumOf(gateway, 'http_server_request_duration_seconds_count', GATEWAY_POST_202),
    upstreamSum: sumOf(gateway, 'gateway_upstream_request_duration_seconds_sum', ['analytics']),
    upstreamCount: sumOf(gateway, 'gateway_upstream_request_duration_seconds_count', ['analytics']),
    cpu: Object.fromEntries(Object.entries(texts).map(([name, text]) => [name, sumOf(text, 'process_cpu_seconds_total')])),
    servers: serverCpu(),
  };
};

interface Phase {
  outcomes: Outcome[];
  seconds: number;
  /** Wall-clock bounds (for the rows' received_at). */
  startedAt: Date;
  endedAt: Date;
  before: Scrape;
  after: Scrape;
  /** Time from the end of the load until every accepted event was stored, or undefined if it did not catch up. */
  drainSeconds: number | undefined;
  drained: Scrape;
  /** Requests due that found every connection busy (open loop only). */
  unsent: number;
  connections: number;
  generatorCpu: number;
  generatorDelayP99Ms: number;
  /** The load's span on CLOCK_MONOTONIC, µs. */
  monotonic: readonly [bigint, bigint];
  /** Cores the whole machine kept busy during the load. */
  machineCores: number;
}

/** Waits until the stored counter reaches the accepted one (every accepted event stored). */
const drain = async (sources: Sources, timeoutMs: number): Promise<{ seconds: number | undefined; scrape: Scrape }> => {
  const started = performance.now();
  for (;;) {
    const now = await scrape(sources);
    if (now.stored >= now.accepted) return { seconds: (performance.now() - started) / 1000, scrape: now };
    if (performance.now() - started > timeoutMs) return { seconds: undefined, scrape: now };
    await sleep(50);
  }
};

/**
 * Runs a phase. `closed`: each of `clients` connections sends its next batch as soon as the last
 * is answered. Otherwise open loop: `batchesPerSecond` batches are due at fixed times, each on an
 * idle connection (a new one when all are busy, up to `maxConnections`), timed from when it was due.
 */
const runPhase = async (
  platform: Platform,
  sources: Sources,
  users: SignedIn[],
  options: {
    seconds: number;
    batch: number;
    closed?: { clients: number };
    open?: { batchesPerSecond: number; maxConnections: number };
    drainTimeoutMs: number;
    record: boolean;
  },
): Promise<Phase> => {
  const port = Number(new URL(platform.gatewayUrl).port);
  const outcomes: Outcome[] = [];
  let connections = 0;
  let unsent = 0;
  let n = 0;
  const before = await scrape(sources);
  const ownCpuBefore = process.cpuUsage();
  // CLOCK_MONOTONIC in µs, the clock of V8's CPU profiles: a profile's samples can be cut to the phase.
  const monotonicStart = process.hrtime.bigint() / 1000n;
  const machineBefore = machineCpu();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const startedAt = new Date();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const open = () => {
    connections += 1;
    return new KeepAliveConnection(port, ANSWER_TIMEOUT_MS);
  };
  if (options.closed) {
    await Promise.all(
      Array.from({ length: options.closed.clients }, async (_, client) => {
        let connection = open();
        const token = users[client % users.length]!.token;
        while (performance.now() < deadline) {
          if (connection.dead) connection = open();
          const request = requestOf(port, token, batchBody(options.batch, n++));
          outcomes.push(outcomeOf(await connection.exchange(request)));
        }
        connection.close();
      }),
    );
  } else if (options.open) {
    const { batchesPerSecond, maxConnections } = options.open;
    const pool: KeepAliveConnection[] = [];
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / batchesPerSecond;
    let due = started;
    while (performance.now() < deadline) {
      while (due <= performance.now() && due < deadline) {
        for (let i = pool.length - 1; i >= 0; i -= 1) if (pool[i]!.dead) pool.splice(i, 1);
        let connection = pool.find((candidate) => !candidate.busy);
        if (!connection && pool.length < maxConnections) pool.push((connection = open()));
        if (!connection) {
          unsent += 1;
        } else {
          const request = requestOf(port, users[n % users.length]!.token, batchBody(options.batch, n++));
          const sending = connection.exchange(request, due).then((answer) => {
            outcomes.push(outcomeOf(answer));
            inFlight.delete(sending);
          });
          inFlight.add(sending);
        }
        due += interval;
      }
      await sleep(Math.max(0, Math.min(5, due - performance.now())));
    }
    await Promise.all(inFlight);
    for (const connection of pool) connection.close();
  }
  // Open loop: the rates are over the scheduled span (the answers still in flight at its end came after it).
  const seconds = options.open ? options.seconds : (performance.now() - started) / 1000;
  const endedAt = new Date();
  delay.disable();
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const monotonic = [monotonicStart, process.hrtime.bigint() / 1000n] as const;
  const machineCores = machineCoresBetween(machineBefore, machineCpu());
  const after = await scrape(sources);
  const drained = options.record ? await drain(sources, options.drainTimeoutMs) : { seconds: undefined, scrape: after };
  return {
    outcomes,
    seconds,
    startedAt,
    endedAt,
    before,
    after,
    drainSeconds: drained.seconds,
    drained: drained.scrape,
    unsent,
    connections,
    generatorCpu: (ownCpu.user + ownCpu.system) / 1e6,
    generatorDelayP99Ms: delay.percentile(99) / 1e6,
    monotonic,
    machineCores,
  };
};

interface Queryable {
  rows: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Accept → queryable of every event a phase stored, exactly, from its row: the commit time of the
 * transaction that inserted it (PostgreSQL's track_commit_timestamp, switched on for the bench) minus
 * its received_at (set by the tracking API when it took the batch in; same machine, same clock).
 */
const queryable = async (analyticsDb: ReturnType<typeof createDatabase>, phase: Phase): Promise<Queryable> => {
  const until = new Date();
  const { rows } = await analyticsDb.raw<{ rows: { n: string; p50: number | null; p99: number | null; max: number | null }[] }>(
    `SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
       FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - received_at) * 1000 AS ms
               FROM app_events
              WHERE event_time >= ? AND event_time < ? AND received_at >= ? AND received_at < ?) AS latencies`,
    [new Date(phase.startedAt.getTime() - 60_000), new Date(until.getTime() + 60_000), phase.startedAt, until],
  );
  const result = rows[0]!;
  return { rows: Number(result.n), p50: result.p50 ?? NaN, p99: result.p99 ?? NaN, max: result.max ?? NaN };
};

interface PhaseSummary {
  requests: number;
  perSecond: number;
  eventsPerSecond: number;
  accepted: number;
  refused: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  statuses: string;
  storedPerSecond: number;
  /** Accepted but not yet stored when the load stopped. */
  lagEvents: number;
  /** In-service and in-gateway mean time of a 202 (ms), and the gateway's wait on analytics. */
  means: { client: number; gateway: number; upstream: number; analytics: number };
  cores: string;
  /** CPU (µs, all cores) each process spent per accepted event. */
  cpuPerEvent: string;
}

const summarize = (phase: Phase): PhaseSummary => {
  const answered = phase.outcomes.filter((outcome) => outcome.status === 202);
  const times = answered.map((outcome) => outcome.ms).sort((a, b) => a - b);
  const accepted = phase.outcomes.reduce((sum, outcome) => sum + outcome.accepted, 0);
  const { before, after } = phase;
  const mean = (sum: keyof Scrape, count: keyof Scrape) =>
    (((after[sum] as number) - (before[sum] as number)) / ((after[count] as number) - (before[count] as number))) * 1000;
  const cpu: Record<string, number> = {
    ...Object.fromEntries(Object.keys(after.cpu).map((name) => [name, after.cpu[name]! - (before.cpu[name] ?? 0)])),
    ...serverCpuBetween(before.servers, after.servers),
    'load generator': phase.generatorCpu,
  };
  return {
    requests: phase.outcomes.length,
    perSecond: answered.length / phase.seconds,
    eventsPerSecond: accepted / phase.seconds,
    accepted,
    refused: phase.outcomes.reduce((sum, outcome) => sum + outcome.refused, 0),
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.at(-1) ?? 0,
    errors: phase.outcomes.length - answered.length,
    statuses: tally(phase.outcomes.map((outcome) => outcome.failure ?? `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`)),
    storedPerSecond: (after.stored - before.stored) / phase.seconds,
    lagEvents: after.accepted - after.stored,
    means: {
      client: times.reduce((sum, ms) => sum + ms, 0) / Math.max(1, times.length),
      gateway: mean('gatewaySum', 'gatewayCount'),
      upstream: mean('upstreamSum', 'upstreamCount'),
      analytics: mean('analyticsSum', 'analyticsCount'),
    },
    cpuPerEvent: `${Object.entries(cpu)
      .map(([name, seconds]) => `${name} ${fmt((seconds * 1e6) / Math.max(1, accepted), 1)}`)
      .join(', ')}; all ${fmt((Object.values(cpu).reduce((sum, seconds) => sum + seconds, 0) * 1e6) / Math.max(1, accepted), 1)} µs`,
    cores: `${Object.entries(cpu)
      .map(([name, seconds]) => `${name} ${fmt(seconds / phase.seconds, 2)}`)
      .join(
        ', ',
      )}; all of these ${fmt(Object.values(cpu).reduce((sum, seconds) => sum + seconds, 0) / phase.seconds, 2)}, the whole machine ${fmt(phase.machineCores, 2)} of ${cpus().length}`,
  };
};

/**
 * The tracking API's ingestion on the distributed platform (a process per service, durable
 * PostgreSQL, Redis, Kafka, all on loopback): signed-in clients send batches of events through the
 * gateway as fast as the 202s come back, then at a steady half of that rate. Accepted events/s and
 * the 202's latency, stored events/s and the drain after the load, and accept → queryable of every
 * stored event, exactly from its row, beside the targets.
 */
export const benchTracking = async ({ seconds, concurrency }: TrackingBenchOptions): Promise<void> => {
  const clients = Number(process.env.BENCH_TRACK_CLIENTS ?? concurrency);
  const batch = Number(process.env.BENCH_TRACK_BATCH ?? 50);
  const runSeconds = Number(process.env.BENCH_TRACK_SECONDS ?? Math.min(30, Math.max(20, seconds)));
  const warmupSeconds = Number(process.env.BENCH_TRACK_WARMUP_SECONDS ?? 3);
  const steadySeconds = Number(process.env.BENCH_TRACK_STEADY_SECONDS ?? runSeconds);
  const steadyShare = Number(process.env.BENCH_TRACK_STEADY_SHARE ?? 0.5);
  const drainTimeoutMs = Number(process.env.BENCH_TRACK_DRAIN_TIMEOUT_SECONDS ?? 120) * 1000;
  // BENCH_TRACK_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is given to the gateway and analytics.
  const nodeOptions = process.env.BENCH_TRACK_NODE_OPTIONS;

  // BENCH_TRACK_SEPARATE_CONSUMER=true: the platform's analytics only answers the API (ANALYTICS_CONSUMER_ENABLED=false)
  // and a second analytics process, started here, runs the consumers (what a deployment that scales them apart does).
  const separateConsumer = process.env.BENCH_TRACK_SEPARATE_CONSUMER === 'true';
  const log = (line: string) => process.stderr.write(`[tracking bench] ${line}\n`);
  const profiling: Record<string, string> = nodeOptions ? { NODE_OPTIONS: nodeOptions } : {};

  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-tracking-'));
  chmodSync(dataDir, 0o711);
  let platform: Platform | undefined;
  let analyticsDb: ReturnType<typeof createDatabase> | undefined;
  let consumer: ChildProcess | undefined;
  try {
    // The platform's PostgreSQL, made first in the data folder it will use, with commit timestamps on:
    // each row's commit time is when it became queryable.
    const prepared = await startPostgres({ dataDir: path.join(dataDir, 'postgres-shared'), persistent: true, durable: true });
    try {
      const admin = createDatabase({ url: prepared.url, poolMax: 1 });
      await admin.raw('ALTER SYSTEM SET track_commit_timestamp = on').finally(() => admin.destroy());
    } finally {
      await prepared.stop();
    }

    platform = await startPlatform({
      dataDir,
      output: 'ignore',
      env: { LOG_LEVEL: 'warn' },
      serviceEnv: {
        gateway: { RATE_LIMIT_PER_USER: RAISED_LIMIT, RATE_LIMIT_PER_IP: RAISED_LIMIT, RATE_LIMIT_AUTH_PER_IP: RAISED_LIMIT, ...profiling },
        analytics: {
          ANALYTICS_TRACK_USER_EVENTS_PER_MINUTE: RAISED_LIMIT,
          ...(separateConsumer ? { ANALYTICS_CONSUMER_ENABLED: 'false' } : {}),
          ...profiling,
        },
      },
    });
    const sources: Sources = Object.fromEntries(Object.values(platform.services).map((service) => [service.name, service.url]));
    if (separateConsumer) {
      const port = await freePort();
      const authUrl = platform.service('auth').url;
      consumer = await startProcess(
        serviceMain(manifest.get('analytics')),
        {
          LOG_LEVEL: 'warn',
          HOST: '127.0.0.1',
          PORT: String(port),
          OTEL_SERVICE_NAME: 'galion-analytics-consumer',
          DATABASE_URL: platform.databaseUrl('analytics'),
          REDIS_URL: platform.redis.url,
          KAFKA_BROKERS: platform.kafka.brokers.join(','),
          MIGRATE_ON_START: 'false',
          PUBLIC_BASE_URL: platform.gatewayUrl,
          AUTH_URL: authUrl,
          AUTH_JWKS_URL: `${authUrl}/api/v1/auth/.well-known/jwks.json`,
          ...profiling,
        },
        `http://127.0.0.1:${port}/readyz`,
        60_000,
      );
      sources['analytics consumer'] = `http://127.0.0.1:${port}`;
    }
    analyticsDb = createDatabase({ url: platform.databaseUrl('analytics'), poolMax: 2, statementTimeoutMs: 0 });
    const gatewayUrl = platform.gatewayUrl.replace('localhost', '127.0.0.1');
    const api = `${gatewayUrl}/api/v1`;
    const stamp = Date.now();
    log(`signing in ${clients} users through the gateway`);
    const users: SignedIn[] = [];
    for (let i = 0; i < clients; i += 1) users.push(await signUp(api, `track${i}`, stamp, `Tracker ${i}`));
    const adminLogin = (
      await call(`${api}/auth/login`, { body: { email: 'admin@galion.local', password: 'change-me-admin-password' } }, [200])
    ).body as { access_token: string };
    const commitTimestamps = (
      (await analyticsDb.raw("SELECT current_setting('track_commit_timestamp') AS on")) as { rows: { on: string }[] }
    ).rows[0]?.on;
    if (commitTimestamps !== 'on') throw new Error('track_commit_timestamp is not on in the platform’s PostgreSQL');
    const sampleBytes = Buffer.byteLength(batchBody(batch, 0));

    log(`warm-up: ${warmupSeconds} s, ${clients} clients`);
    const warm = await runPhase(platform, sources, users, {
      seconds: warmupSeconds,
      batch,
      closed: { clients },
      drainTimeoutMs,
      record: false,
    });
    if (warm.outcomes.every((outcome) => outcome.status !== 202)) {
      throw new Error(`the warm-up had no 202: ${summarize(warm).statuses}`);
    }
    await drain(sources, drainTimeoutMs);

    log(`max: ${runSeconds} s, ${clients} clients in a closed loop`);
    const maxPhase = await runPhase(platform, sources, users, {
      seconds: runSeconds,
      batch,
      closed: { clients },
      drainTimeoutMs,
      record: true,
    });
    const max = summarize(maxPhase);
    if (nodeOptions) log(`max phase on CLOCK_MONOTONIC (the profiles' clock): ${maxPhase.monotonic[0]}–${maxPhase.monotonic[1]} µs`);
    const maxQueryable = await queryable(analyticsDb, maxPhase);

    const steadyRate = Math.max(batch, Math.round((max.eventsPerSecond * steadyShare) / batch) * batch);
    log(`steady: ${steadySeconds} s at ${fmt(steadyRate)} events/s (open loop)`);
    const steadyPhase = await runPhase(platform, sources, users, {
      seconds: steadySeconds,
      batch,
      open: { batchesPerSecond: steadyRate / batch, maxConnections: 200 },
      drainTimeoutMs,
      record: true,
    });
    const steady = summarize(steadyPhase);
    if (nodeOptions) log(`steady phase on CLOCK_MONOTONIC: ${steadyPhase.monotonic[0]}–${steadyPhase.monotonic[1]} µs`);
    const steadyQueryable = await queryable(analyticsDb, steadyPhase);

    // Every accepted event a row, and the query API counts them (its default range is the last 7 days).
    const rows = Number(((await analyticsDb('app_events').count({ n: '*' }).first()) as { n: string } | undefined)?.n ?? 0);
    const uniques = (await call(`${api}/analytics/app/uniques`, { token: adminLogin.access_token }, [200])).body as {
      events: number;
      users: number;
    };
    const acceptedEver = steadyPhase.drained.accepted;

    const histogramShare = (phase: Phase) => {
      const within = phase.drained.withinSecond - phase.before.withinSecond;
      const all = phase.drained.latencyCount - phase.before.latencyCount;
      return all === 0 ? NaN : (within / all) * 100;
    };
    const widths = [34, 8, 9, 8, 10, 8, 8, 8, 7];
    const line = (name: string, s: PhaseSummary) =>
      row(
        [
          name,
          fmt(s.requests),
          fmt(s.perSecond),
          fmt(s.eventsPerSecond),
          fmt(s.storedPerSecond),
          fmt(s.p50, 1),
          fmt(s.p99, 1),
          fmt(s.max, 0),
          fmt(s.errors),
        ],
        widths,
      );
    const drainText = (phase: Phase, s: PhaseSummary) =>
      phase.drainSeconds === undefined
        ? `NOT drained within ${fmt(drainTimeoutMs / 1000)} s (${fmt(phase.drained.accepted - phase.drained.stored)} still unstored)`
        : `${fmt(s.lagEvents)} accepted events not yet stored when the load stopped (${fmt(s.lagEvents / Math.max(1, s.eventsPerSecond), 2)} s of the accepted rate), all stored ${fmt(phase.drainSeconds, 2)} s later`;
    const stages = (s: PhaseSummary) =>
      `mean 202 at the client ${fmt(s.means.client, 1)} ms = in the gateway ${fmt(s.means.gateway, 1)} ms (of which waiting on analytics ${fmt(s.means.upstream, 1)} ms; analytics' own handling ${fmt(s.means.analytics, 1)} ms)`;
    const q = (result: Queryable) =>
      `p50 ${fmt(result.p50, 0)} ms, p99 ${fmt(result.p99, 0)} ms, max ${fmt(result.max, 0)} ms over ${fmt(result.rows)} rows`;
    const steadyAcceptedShare = steady.eventsPerSecond / steadyRate;
    const storedEndToEnd =
      maxPhase.drainSeconds === undefined
        ? NaN
        : (maxPhase.after.accepted - maxPhase.before.accepted) / (maxPhase.seconds + maxPhase.drainSeconds);
    process.stdout.write(
      [
        '',
        `Tracking ingestion: POST ${TRACK_PATH} through the gateway, distributed mode (a process per service; PostgreSQL durable, Redis, Kafka 1 broker 3 partitions, acks=all), ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`,
        `  ${clients} signed-in users (bearer tokens), batches of ${batch} events (name, id = randomUUID, time = now, url, 2 properties; ${fmt(sampleBytes / 1024, 1)} KB) over keep-alive connections; ${warmupSeconds} s warm-up, then max: ${runSeconds} s closed loop (next batch as soon as the 202 is back), steady: ${steadySeconds} s open loop at ${fmt(steadyShare * 100)}% of the max (${fmt(steadyRate)} events/s, ${fmt(steadyRate / batch, 1)} batches/s)`,
        `  limits raised for the bench: gateway RATE_LIMIT_PER_USER, RATE_LIMIT_PER_IP and RATE_LIMIT_AUTH_PER_IP ${fmt(Number(RAISED_LIMIT))} per window, analytics ANALYTICS_TRACK_USER_EVENTS_PER_MINUTE ${fmt(Number(RAISED_LIMIT))}`,
        row(['phase', 'requests', 'req/s', 'events/s', 'stored/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'], widths),
        line(`max, ${clients} clients closed loop`, max),
        line(`steady, ${fmt(steadyRate)} events/s open loop`, steady),
        `  events/s = accepted (in the 202s), stored/s = analytics_app_events_stored_total over the same seconds; latency of the 202 (open loop: from when the batch was due)`,
        `  statuses, max: ${max.statuses}; steady: ${steady.statuses}${steadyPhase.unsent ? `; ${fmt(steadyPhase.unsent)} batches not sent (all ${200} connections busy)` : ''}${max.refused + steady.refused ? `; events refused inside 202s: ${fmt(max.refused + steady.refused)}` : ''}`,
        `  storage, max: ${drainText(maxPhase, max)}; accepted → stored over the run and its drain ${fmt(storedEndToEnd)} events/s`,
        `  storage, steady: ${drainText(steadyPhase, steady)}`,
        `  accept → queryable (exact: each row's commit time, PostgreSQL track_commit_timestamp, minus its received_at):`,
        `    steady: ${q(steadyQueryable)}; analytics_app_event_latency_seconds: ${fmt(histogramShare(steadyPhase), 2)}% ≤ 1 s`,
        `    max:    ${q(maxQueryable)}; analytics_app_event_latency_seconds: ${fmt(histogramShare(maxPhase), 2)}% ≤ 1 s`,
        `  check: ${fmt(rows)} rows in app_events, ${fmt(acceptedEver)} events accepted in all (warm-up included); GET /api/v1/analytics/app/uniques counts ${fmt(uniques.events)} events of ${fmt(uniques.users)} users`,
        `  where the time goes, max: ${stages(max)}`,
        `  where the time goes, steady: ${stages(steady)}`,
        `  cores busy, max: ${max.cores} (its event-loop delay p99 ${fmt(maxPhase.generatorDelayP99Ms, 0)} ms)`,
        `  cores busy, steady: ${steady.cores}`,
        `  CPU per accepted event (µs), max: ${max.cpuPerEvent}`,
        `  targets:`,
        `    accepted events/s: ${fmt(max.eventsPerSecond)} (target ≥ ${fmt(TARGET_EVENTS_PER_SECOND)}: ratio ${fmt(max.eventsPerSecond / TARGET_EVENTS_PER_SECOND, 2)})`,
        `    stored events/s: ${fmt(max.storedPerSecond)} (target ≥ ${fmt(TARGET_EVENTS_PER_SECOND)}: ratio ${fmt(max.storedPerSecond / TARGET_EVENTS_PER_SECOND, 2)})`,
        `    p99 accept→queryable at ${fmt(steadyRate)} events/s: ${fmt(steadyQueryable.p99, 0)} ms (target < ${fmt(TARGET_P99_MS)} ms: ratio ${fmt(steadyQueryable.p99 / TARGET_P99_MS, 2)}); the steady phase accepted ${fmt(steadyAcceptedShare * 100, 1)}% of the rate it was offered`,
        '',
      ].join('\n'),
    );
  } finally {
    if (consumer) await stopProcess(consumer);
    await analyticsDb?.destroy();
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
