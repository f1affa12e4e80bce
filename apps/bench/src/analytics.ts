import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { analyticsMigrations, COPY_EVENTS, DAY_MS as STORE_DAY_MS, eventLine, PartitionRepository } from '@galion/analytics/store-layout';
import { copyIn, createDatabase, ensureDatabaseExists, migrateLatest, type Knex } from '@galion/kit';
import { freePort, startKafka, startPostgres, type PostgresHandle } from '@galion/localdeps';
import { manifest, serviceMain } from '@galion/manifest';
import { SignJWT } from 'jose';
import { fmt, percentile, row, runLoad, startProcess, stopProcess } from './load.js';
import { serverCpu, serverCpuBetween } from './process-cpu.js';
import { synthetic } from './synthetic.js';
import { syntheticEvent } from './synthetic-data.js';

const ANALYTICS_MAIN = serviceMain(manifest.get('analytics'));
const ISSUER = 'https://bench.galion.test/api/v1/auth';
const DAY_MS = 86_400_000;

export interface AnalyticsBenchOptions {
  seconds: number;
  concurrency: number;
}


/** PostgreSQL set up as for an analytics store: larger caches and WAL, then restarted. */
const tunePostgres = async (postgres: PostgresHandle): Promise<void> => {
  const admin = createDatabase({ url: postgres.url, poolMax: 1 });
  for (const setting of ["shared_buffers = '1GB'", "work_mem = '64MB'", "maintenance_work_mem = '512MB'", "max_wal_size = '8GB'"]) {
    await admin.raw(`ALTER SYSTEM SET ${setting}`);
  }
  await admin.destroy();
  await postgres.stop();
  await postgres.start();
};

/** A JWKS endpoint of the bench's own and an admin token it signed, for the query API. */
const startJwks = async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'EdDSA', use: 'sig' };
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const token = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience('galion')
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const metric = (text: string, name: string): number => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
};

/** "running 40 %, idle 35 %, ..." from counts of samples, largest first. */
const describeShares = (counts: Map<string, number>): string => {
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, n]) => `${what} ${Math.round((n / Math.max(1, total)) * 100)} %`)
    .join(', ');
};

/** CPU seconds a child process has used so far, from /proc. */
const processCpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/** The most memory a child process has held so far (VmHWM, its peak resident set), in MiB. */
const peakResidentMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('VmHWM:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
};

/** The analytics pod's memory limit in the chart, as written there (e.g. `384Mi`). */
const chartMemoryLimit = (): string => {
  const values = readFileSync(path.join(__dirname, '..', '..', '..', 'charts', 'analytics', 'values.yaml'), 'utf8');
  return /limits:\s*\n(?:\s+\S.*\n)*?\s+memory:\s*(\S+)/.exec(values)?.[1] ?? 'unknown';
};

/** Times `work` `runs` times after one warm-up run; returns the sorted durations in ms. */
const timeRuns = async (runs: number, work: () => Promise<unknown>): Promise<number[]> => {
  await work();
  const durations: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await work();
    durations.push(performance.now() - started);
  }
  return durations.sort((a, b) => a - b);
};

/** The summary the naive way: straight from the raw events of the range. */
const rawSummary = (knex: Knex, from: Date, to: Date) =>
  Promise.all([
    knex.raw('SELECT event_type, count(*) FROM events WHERE event_time >= ? AND event_time < ? GROUP BY event_type', [from, to]),
    knex.raw('SELECT count(DISTINCT user_id) FROM events WHERE event_time >= ? AND event_time < ?', [from, to]),
    knex.raw('SELECT min(event_time), max(event_time) FROM events WHERE event_time >= ? AND event_time < ?', [from, to]),
  ]);

/**
 * Analytics figures in one run, on a real Kafka broker and PostgreSQL, with the analytics service
 * as a separate process: sustained ingestion from Kafka into PostgreSQL (events pre-produced,
 * then drained by the consumer), and /summary latency over a 10-million-event store next to the
 * same summary computed by scanning the raw events.
 */
export const benchAnalytics = async ({ seconds }: AnalyticsBenchOptions): Promise<void> => {
  const ingestEvents = Number(process.env.BENCH_ANALYTICS_EVENTS ?? 500_000);
  const historyEvents = Number(process.env.BENCH_ANALYTICS_HISTORY ?? 10_000_000);
  const historyUsers = Number(process.env.BENCH_ANALYTICS_USERS ?? 100_000);
  const historyDays = 30;
  const out: string[] = [''];
  const widths = [34, 12, 12, 12, 10];
  const log = (line: string) => process.stderr.write(`[analytics bench] ${line}\n`);

  const [postgres, kafka, jwks] = await Promise.all([
    startPostgres({ persistent: true, durable: true }),
    startKafka({ partitions: 3 }),
    startJwks(),
  ]);
  const children: Awaited<ReturnType<typeof startProcess>>[] = [];
  const databases: Knex[] = [];
  try {
    await tunePostgres(postgres);
    const serviceEnv = (databaseUrl: string, port: number, consumer: boolean) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      MIGRATE_ON_START: 'true',
      KAFKA_BROKERS: kafka.brokers.join(','),
      ANALYTICS_CONSUMER_ENABLED: String(consumer),
      AUTH_JWKS_URL: jwks.url,
      JWT_ISSUER: ISSUER,
      LOG_LEVEL: 'warn',
    });

    // 1. Ingestion: pre-produce, then time the consumer draining the topic into PostgreSQL.
    const users = 50_000;
    log(`producing ${fmt(ingestEvents)} events to Kafka`);
    const produced = await synthetic([
      'produce',
      '--brokers',
      kafka.brokers.join(','),
      '--count',
      String(ingestEvents),
      '--users',
      String(users),
    ]);

    // The reference: the same number of the same synthetic events (as the producer makes them: types,
    // users, data, times in the last minute), written by PostgreSQL's COPY into the events table of
    // an analytics store of their own (same schema, partitions and indexes), in one statement.
    const copyUrl = postgres.urlFor('bench_analytics_copy');
    await ensureDatabaseExists(copyUrl);
    const copyDb = createDatabase({ url: copyUrl, poolMax: 1, statementTimeoutMs: 0 });
    databases.push(copyDb);
    await migrateLatest(copyDb, analyticsMigrations);
    const now = Date.now();
    await new PartitionRepository(copyDb).ensure([-1, 0].map((day) => new Date((Math.floor(now / STORE_DAY_MS) + day) * STORE_DAY_MS)));
    const chunks: Buffer[] = [];
    // The rows as the consumer stores them, each user numbered by its own synthetic number.
    const userNumbers = new Map(Array.from({ length: users }, (_, n) => [`user-${n}`, n]));
    for (let start = 0; start < ingestEvents; start += 5_000) {
      let text = '';
      for (let i = start; i < Math.min(ingestEvents, start + 5_000); i += 1)
        text += eventLine(syntheticEvent(i, users, new Date(now - 60_000 + Math.floor((i / ingestEvents) * 60_000))), userNumbers);
      chunks.push(Buffer.from(text));
    }
    log(`COPY of ${fmt(ingestEvents)} rows (${fmt(chunks.reduce((sum, chunk) => sum + chunk.length, 0) / 1e6, 1)} MB) into the events table, before and after the consumer's drain`);
    // The reference is measured twice, before and after the consumer, each time into an emptied
    // table right after a checkpoint (so neither side pays for a checkpoint, and the full-page
    // writes after it, that the other's writes brought about), and the consumer is compared with
    // the mean: one COPY of a few seconds varies with the machine's other work by ±15 %.
    const copyReference = async () => {
      await copyDb.raw('TRUNCATE events');
      await copyDb.raw('CHECKPOINT');
      const load = loadavg()[0]!;
      const cpuBefore = serverCpu();
      const started = performance.now();
      const rows = await copyIn(copyDb, COPY_EVENTS, chunks);
      const copySeconds = (performance.now() - started) / 1000;
      const postgresCpu = serverCpuBetween(cpuBefore, serverCpu()).postgres;
      // The copied rows' vacuum and analyze done now, so that autovacuum does not do them while
      // the other side's PostgreSQL CPU is measured.
      await copyDb.raw('VACUUM (ANALYZE) events');
      await copyDb.raw('CHECKPOINT');
      return { rows, seconds: copySeconds, rate: rows / copySeconds, postgresCpu, load };
    };
    const copyBefore = await copyReference();

    const ingestUrl = postgres.urlFor('bench_analytics_ingest');
    await ensureDatabaseExists(ingestUrl);
    const ingestPort = await freePort();
    const base = `http://127.0.0.1:${ingestPort}`;
    log('draining them with the analytics consumer');
    // BENCH_ANALYTICS_CPU_PROF=<dir>: the consumer writes a V8 CPU profile there when it stops.
    const profileDir = process.env.BENCH_ANALYTICS_CPU_PROF;
    // BENCH_ANALYTICS_HEAP_MIB=<MiB>: the consumer's V8 heap limit, to drain as in a pod whose memory
    // limit bounds it rather than with the heap this machine's memory allows.
    const heapMiB = process.env.BENCH_ANALYTICS_HEAP_MIB;
    const nodeOptions = [
      process.env.NODE_OPTIONS ?? '',
      heapMiB ? `--max-old-space-size=${Number(heapMiB)}` : '',
      profileDir ? `--cpu-prof --cpu-prof-dir=${profileDir}` : '',
    ].join(' ');
    const ingestLoad = loadavg()[0]!;
    const startedAt = performance.now();
    const consumer = await startProcess(
      ANALYTICS_MAIN,
      {
        ...serviceEnv(ingestUrl, ingestPort, true),
        NODE_OPTIONS: nodeOptions,
      },
      `${base}/livez`,
      60_000,
    );
    children.push(consumer);
    let firstAt: number | undefined;
    let firstCount = 0;
    let firstCpu = { service: 0, postgres: serverCpu() };
    let processed = 0;
    const samples: [number, number][] = [];
    // What the consumer's PostgreSQL backends do, sampled every 100 ms: running, waiting on a lock
    // or the WAL, or idle while the consumer works (fetching, parsing, between statements).
    const activityDb = createDatabase({ url: ingestUrl, poolMax: 1 });
    databases.push(activityDb);
    const backendStates = new Map<string, number>();
    const sampleBackends = async () => {
      const { rows } = await activityDb.raw<{ rows: { what: string }[] }>(
        `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ': ' || wait_event, 'running') ELSE state END AS what
           FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      for (const { what } of rows) backendStates.set(what, (backendStates.get(what) ?? 0) + 1);
    };
    while (processed < ingestEvents) {
      if (performance.now() - startedAt > 600_000) throw new Error(`ingestion stalled at ${processed} of ${ingestEvents} events`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      processed = metric(await (await fetch(`${base}/metrics`)).text(), 'analytics_events_processed_total');
      if (processed > 0) await sampleBackends();
      const now = performance.now();
      if (firstAt === undefined && processed > 0) {
        [firstAt, firstCount] = [now, processed];
        firstCpu = { service: processCpuSeconds(consumer.pid!), postgres: serverCpu() };
      }
      samples.push([now, processed]);
    }
    const doneAt = performance.now();
    const serviceCpu = processCpuSeconds(consumer.pid!) - firstCpu.service;
    const ingestPostgresCpu = serverCpuBetween(firstCpu.postgres, serverCpu()).postgres;
    const ingestDb = createDatabase({ url: ingestUrl, poolMax: 1 });
    databases.push(ingestDb);
    const stored = Number((await ingestDb('events').count({ n: '*' }).first())?.n);
    const drainSeconds = (doneAt - firstAt!) / 1000;
    const drained = ingestEvents - firstCount;
    const rate = drained / drainSeconds;
    // Steadiest second-by-second rate over the middle of the run.
    const perSecond: number[] = [];
    for (let i = 0, j = 0; i < samples.length; i += 1) {
      while (j < samples.length && samples[j]![0] - samples[i]![0] < 1_000) j += 1;
      if (j < samples.length) perSecond.push(((samples[j]![1] - samples[i]![1]) * 1000) / (samples[j]![0] - samples[i]![0]));
    }
    perSecond.sort((a, b) => a - b);
    const consumerPeakMiB = peakResidentMiB(consumer.pid!);
    await stopProcess(consumer);
    // The consumer's rows vacuumed first, so that autovacuum does not do them during the second COPY.
    await ingestDb.raw('VACUUM (ANALYZE) events');
    const copyAfter = await copyReference();
    const copyRate = (copyBefore.rate + copyAfter.rate) / 2;

    const perThousand = (seconds: number, events: number) => fmt((seconds * 1000 * 1000) / events, 1);
    out.push(
      `Analytics benchmark: PostgreSQL 18 (durable, shared_buffers 1GB), Kafka 3.9 (1 broker, 3 partitions), analytics as a separate process`,
      row(['Ingestion, into PostgreSQL', 'events', 'seconds', 'events/s', 'load avg'], widths),
      row(['COPY FROM STDIN, before', fmt(copyBefore.rows), fmt(copyBefore.seconds, 1), fmt(copyBefore.rate), fmt(copyBefore.load, 1)], widths),
      row(['consumer draining Kafka', fmt(drained), fmt(drainSeconds, 1), fmt(rate), fmt(ingestLoad, 1)], widths),
      row(['COPY FROM STDIN, after', fmt(copyAfter.rows), fmt(copyAfter.seconds, 1), fmt(copyAfter.rate), fmt(copyAfter.load, 1)], widths),
      `  consumer / COPY (the mean of the two): ${fmt((rate / copyRate) * 100)} % (target ≥ 50 %); absolute target ≥ 20,000 events/s`,
      `  CPU ms per 1,000 events: COPY postgres ${perThousand(copyBefore.postgresCpu, copyBefore.rows)} before, ${perThousand(copyAfter.postgresCpu, copyAfter.rows)} after; consumer postgres ${perThousand(ingestPostgresCpu, drained)}, analytics ${perThousand(serviceCpu, drained)}`,
      `  stored ${fmt(stored)} rows of ${fmt(ingestEvents)} produced (the rest: events of erased users; produce took ${fmt(produced.seconds, 1)} s); per-second rate p10 ${fmt(percentile(perSecond, 10))}, p50 ${fmt(percentile(perSecond, 50))}, p90 ${fmt(percentile(perSecond, 90))}`,
      `  ratio to the 100 events/s of the system it replaces: ${fmt(rate / 100)}x`,
      `  the analytics process's peak memory (resident): ${fmt(consumerPeakMiB)} MiB (the pod's limit in the chart: ${chartMemoryLimit()}${heapMiB ? `; heap limited to ${heapMiB} MiB` : '; heap not limited'})`,
      `  the consumer's PostgreSQL backends, sampled every 100 ms: ${describeShares(backendStates)}`,
      '',
    );
    if (historyEvents === 0) {
      process.stdout.write(out.join('\n'));
      return;
    }

    // 2. Query latency over a 10-million-event store, generated straight into PostgreSQL.
    log(`generating ${fmt(historyEvents)} events over ${historyDays} days for ${fmt(historyUsers)} users`);
    const historyUrl = postgres.urlFor('bench_analytics_history');
    const end = new Date();
    const generated = await synthetic([
      'generate',
      '--database-url',
      historyUrl,
      '--events',
      String(historyEvents),
      '--days',
      String(historyDays),
      '--users',
      String(historyUsers),
      '--end',
      end.toISOString(),
    ]);
    const history = createDatabase({ url: historyUrl, poolMax: 3, statementTimeoutMs: 0 });
    databases.push(history);
    const sizes = (
      await history.raw<{ rows: { table: string; size: string }[] }>(
        `SELECT 'events' AS table, pg_size_pretty(sum(pg_total_relation_size(inhrelid))) AS size FROM pg_inherits WHERE inhparent = 'events'::regclass
         UNION ALL SELECT 'rollups', pg_size_pretty(pg_total_relation_size('event_counts_hourly') + pg_total_relation_size('user_ids')
           + pg_total_relation_size('active_users_hourly') + pg_total_relation_size('active_users_daily'))`,
      )
    ).rows;
    const queryPort = await freePort();
    const queryBase = `http://127.0.0.1:${queryPort}`;
    const api = await startProcess(ANALYTICS_MAIN, serviceEnv(historyUrl, queryPort, false), `${queryBase}/readyz`, 60_000);
    children.push(api);
    const headers = { authorization: `Bearer ${jwks.token}` };
    const ranges: [string, Date, Date][] = [
      ['last 7 days (the default)', new Date(end.getTime() - 7 * DAY_MS), end],
      [`all ${historyDays} days`, new Date(end.getTime() - historyDays * DAY_MS), end],
    ];
    const results = [];
    for (const [name, from, to] of ranges) {
      const query = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
      const check = (await (await fetch(`${queryBase}/api/v1/analytics/summary?${query}`, { headers })).json()) as {
        total: number;
        distinct_users: number;
      };
      log(`GET /summary over ${name}: ${fmt(check.total)} events, ${fmt(check.distinct_users)} users`);
      const load = await runLoad({ concurrency: 1, seconds: Math.max(5, seconds) }, async () => {
        const response = await fetch(`${queryBase}/api/v1/analytics/summary?${query}`, { headers });
        await response.arrayBuffer();
        return response.status === 200;
      });
      const raw = await timeRuns(3, () => rawSummary(history, from, to));
      results.push({ name, load, raw, total: check.total });
    }

    out.push(
      `Summary over ${fmt(historyEvents)} events (${historyDays} days, ${fmt(historyUsers)} users; generated in ${fmt(generated.seconds)} s; ${sizes.map((size) => `${size.table} ${size.size}`).join(', ')})`,
      row(['GET /summary (rollups)', 'p50 ms', 'p99 ms', 'raw scan ms', 'speed-up'], widths),
      ...results.map((result) =>
        row(
          [
            result.name,
            fmt(result.load.p50Ms, 1),
            fmt(result.load.p99Ms, 1),
            fmt(percentile(result.raw, 50)),
            `${fmt(percentile(result.raw, 50) / result.load.p50Ms, 0)}x`,
          ],
          widths,
        ),
      ),
      `  target: p99 under 100 ms; raw scan = the same totals, distinct users and first/last time computed from the raw events (median of 3 runs)`,
      '',
    );
    process.stdout.write(out.join('\n'));
  } finally {
    await Promise.all(children.map((child) => stopProcess(child)));
    await Promise.all(databases.map((db) => db.destroy()));
    await jwks.close();
    await Promise.all([kafka.stop(), postgres.stop()]);
  }
};
