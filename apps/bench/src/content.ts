import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase, createRedis, waitForRedis } from '@galion/kit';
import { startPlatform, type Platform } from '@galion/launcher';
import { closedLoop, statusesOf, type LoopClient, type Probe } from './closed-loop.js';
import { getRequest, KeepAliveConnection } from './keep-alive.js';
import { fmt, pooled, row, sleep, statsOf, waitFor, type Stats } from './load.js';
import { call, signUp, sumOf, type SignedIn } from './platform-api.js';
import { coresText, cpuPerText, meanMs, meanMsOf, snapshot, usageBetween } from './platform-usage.js';

/**
 * The content benchmark (`npm run bench content`): posts, the home feed, fan-out and search on the
 * distributed platform (a process per service, durable PostgreSQL, Redis, Kafka, all on loopback),
 * every request through the gateway. docs/posts.md and docs/feed.md (Benchmark) give the figures.
 */

export interface ContentBenchOptions {
  seconds: number;
  concurrency: number;
}

/** Past this a request counts as unanswered: the client gives up on it and reconnects. */
const ANSWER_TIMEOUT_MS = 30_000;
/** The limits raised for the bench: one IP sends everything, 20 users write far more than people do. */
const RAISED_LIMIT = '10000000';
/** The feed's keys in Redis (FEED_REDIS_PREFIX's default, which the platform keeps). */
const FEED_PREFIX = 'galion:feed:';
/** A home feed's depth (FEED_MAX_ENTRIES' default) and the page read. */
const FEED_DEPTH = 1_000;
const PAGE = 50;

const log = (line: string) => process.stderr.write(`[content bench] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Text: a Zipf-like word distribution over a small vocabulary, the same in TypeScript (the posts
// written through the API) and in SQL (the million loaded straight into the database).

/** The most frequent words of English text, which the `english` configuration does not index. */
// prettier-ignore
const STOP_WORDS = [
  'the', 'of', 'and', 'to', 'a', 'in', 'is', 'it', 'that', 'for',
  'on', 'with', 'as', 'was', 'be', 'this', 'by', 'are', 'at', 'from',
];
/** Then the words of a developer blog, most frequent first; five are two-word phrases. */
// prettier-ignore
const HEAD_WORDS = [
  'data', 'service', 'time', 'code', 'system', 'user', 'release', 'team', 'query', 'server',
  'performance', 'database', 'request', 'cache', 'build', 'test', 'error', 'design', 'network', 'latency',
  'deploy', 'memory', 'index', 'cluster', 'event', 'stream', 'model', 'client', 'review', 'feature',
  'open source', 'storage', 'search', 'api', 'migration', 'monitor', 'config', 'library', 'version', 'browser',
  'machine learning', 'thread', 'kernel', 'compiler', 'schema', 'token', 'session', 'router', 'proxy', 'queue',
  'connection pool', 'replica', 'backup', 'upgrade', 'profile', 'metric', 'alert', 'dashboard', 'incident', 'outage',
  'garbage collection', 'container', 'pipeline', 'package', 'module', 'function', 'object', 'array', 'string', 'number',
  'load balancer', 'source', 'open', 'pool', 'learning', 'machine', 'balance', 'garbage', 'collection', 'connection',
  'graph', 'tree', 'hash', 'lock', 'transaction', 'commit', 'branch', 'merge', 'patch', 'bug',
  'script', 'shell', 'terminal', 'editor', 'plugin', 'framework', 'component', 'layout', 'style', 'theme',
  'mobile', 'desktop', 'cloud', 'region', 'zone', 'disk', 'file', 'folder', 'archive', 'snapshot',
  'password', 'account', 'login', 'permission', 'role', 'policy', 'audit', 'privacy', 'security', 'secret',
  'payment', 'invoice', 'customer', 'order', 'product', 'price', 'market', 'growth', 'launch', 'roadmap',
  'meeting', 'planning', 'sprint', 'estimate', 'deadline', 'standup', 'hiring', 'interview', 'mentor', 'career',
  'python', 'rust', 'java', 'golang', 'typescript', 'postgres', 'redis', 'kafka', 'linux', 'docker',
  'kubernetes', 'terraform', 'nginx', 'react', 'node', 'webpack', 'vite', 'jest', 'grafana', 'prometheus',
];
const HEAD = [...STOP_WORDS, ...HEAD_WORDS];
/** Ranks past the head are made-up words, four syllables of these at most (one word per rank). */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'da', 'fe', 'gu', 'ho', 'ji', 'po', 'ze'];
const VOCABULARY = 20_000;
// prettier-ignore
const TAGS = [
  'engineering', 'databases', 'frontend', 'backend', 'devops', 'security', 'performance', 'testing', 'design', 'product',
  'career', 'open-source', 'cloud', 'mobile', 'data', 'ai', 'release-notes', 'tutorial', 'opinion', 'news',
  'rust', 'typescript', 'postgres', 'kafka', 'redis', 'kubernetes', 'linux', 'web', 'api', 'observability',
];

const wordAt = (rank: number): string =>
  rank <= HEAD.length
    ? HEAD[rank - 1]!
    : `${SYLLABLES[rank % 16]}${SYLLABLES[(rank >> 4) % 16]}${SYLLABLES[(rank >> 8) % 16]}${rank >= 4096 ? SYLLABLES[(rank >> 12) % 16] : ''}`;

/** Rank k with probability ln((k+1)/k) / ln(V+1): a log-uniform draw, which is Zipf's 1/k. */
const drawRank = (): number => Math.min(VOCABULARY, Math.max(1, Math.floor(Math.exp(Math.random() * Math.log(VOCABULARY + 1)))));

/** The same word choice in SQL: `k` a rank, `head` and `syl` the arrays above. */
const SQL_WORD = `CASE WHEN k <= ${HEAD.length} THEN head[k]
  ELSE syl[k % 16 + 1] || syl[(k >> 4) % 16 + 1] || syl[(k >> 8) % 16 + 1] || CASE WHEN k >= 4096 THEN syl[(k >> 12) % 16 + 1] ELSE '' END END`;
const SQL_RANK = `least(${VOCABULARY}, greatest(1, floor(exp(random() * ${Math.log(VOCABULARY + 1)}))))::int`;

const words = (count: number): string => Array.from({ length: count }, () => wordAt(drawRank())).join(' ');

/** A post as a person writes one: a title of 6 words, about 1 KB of body, 2 tags. */
const postPayload = (n: number): string => {
  let body = '';
  while (body.length < 1_000) body += `${body ? ' ' : ''}${words(12)}.`;
  const first = n % TAGS.length;
  return JSON.stringify({
    title: words(6),
    body,
    tags: [TAGS[first], TAGS[(first + 1 + (Math.floor(n / TAGS.length) % (TAGS.length - 1))) % TAGS.length]],
    published: true,
  });
};

// ---------------------------------------------------------------------------------------------
// HTTP: set-up calls through fetch; measured load over bare keep-alive sockets (as the other
// benches), so the load generator, which shares the two cores with the platform, costs little.

/** A connection of the measured load: an answer not back within ANSWER_TIMEOUT_MS is a timeout. */
const connectTo = (port: number) => new KeepAliveConnection(port, ANSWER_TIMEOUT_MS);

const postRequest = (port: number, target: string, token: string, body: string): string =>
  `POST ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

// ---------------------------------------------------------------------------------------------

interface Env {
  platform: Platform;
  api: string;
  port: number;
  redis: ReturnType<typeof createRedis>;
  clients: number;
}

/** Follows `followee`, waiting out the moment users has not made the followee's profile yet. */
const follow = async (api: string, follower: SignedIn, followee: string): Promise<void> => {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status } = await call(`${api}/users/${followee}/follow`, { method: 'PUT', token: follower.token }, [200, 404]);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`PUT /users/${followee}/follow kept answering 404`);
    await sleep(200);
  }
};

/** The post.published events the feed has handled, whatever their outcome. */
const publishedHandled = async (platform: Platform): Promise<number> =>
  sumOf(await (await fetch(`${platform.service('feed').url}/metrics`)).text(), 'feed_events_total', ['type="post.published"']);

// --- 1. Post creation ------------------------------------------------------------------------

interface CreationResult {
  authors: SignedIn[];
  created: number;
  report: string[];
}

const benchCreation = async (env: Env, stamp: number, runSeconds: number, warmupSeconds: number): Promise<CreationResult> => {
  const { platform, api, port, clients } = env;
  log(`creation: signing in ${clients} authors`);
  const authors = await pooled(
    Array.from({ length: clients }, (_, i) => i),
    4,
    (i) => signUp(api, `author${i}`, stamp),
  );
  let n = 0;
  const loopClients = (): LoopClient[] =>
    authors.map((author) => ({
      next: () => ({ request: postRequest(port, '/api/v1/posts', author.token, postPayload(n++)), kind: 'create' }),
    }));
  const bodyBytes = Buffer.byteLength(postPayload(0));
  log(`creation: warm-up ${warmupSeconds} s`);
  const warm = await closedLoop(port, loopClients(), warmupSeconds, ANSWER_TIMEOUT_MS);
  if (!warm.probes.some((probe) => probe.status === 201)) throw new Error(`the warm-up created nothing: ${statusesOf(warm.probes)}`);
  log(`creation: ${runSeconds} s, ${clients} clients in a closed loop`);
  const before = await snapshot(platform);
  // posts' connection pool, sampled twice a second: how many transactions run, how many wait for a connection.
  const pool = { used: 0, pending: 0, max: 0, samples: 0 };
  const postsMetrics = `${platform.service('posts').url}/metrics`;
  const sampler = setInterval(() => {
    void fetch(postsMetrics)
      .then((response) => response.text())
      .then((text) => {
        pool.used += sumOf(text, 'db_pool_connections_used');
        pool.pending += sumOf(text, 'db_pool_pending_acquires');
        pool.max = sumOf(text, 'db_pool_connections_max');
        pool.samples += 1;
      })
      .catch(() => undefined);
  }, 500);
  const run = await closedLoop(port, loopClients(), runSeconds, ANSWER_TIMEOUT_MS).finally(() => clearInterval(sampler));
  const after = await snapshot(platform);
  const created201 = run.probes.filter((probe) => probe.status === 201);
  const times = statsOf(created201.map((probe) => probe.ms));
  const created = warm.probes.filter((probe) => probe.status === 201).length + created201.length;
  // The feed catches up: every post.published handled (the outbox relay, Kafka, the consumer).
  const loadEnded = performance.now();
  const drained = await waitFor(
    'the feed to handle every post',
    180_000,
    async () => ((await publishedHandled(platform)) >= created ? performance.now() : undefined),
    50,
  );
  const usage = usageBetween(before, after);
  const means = {
    gateway: meanMs(before, after, 'gateway', 'gateway_upstream_request_duration_seconds', ['upstream="posts"', 'status_code="201"']),
    posts: meanMs(before, after, 'posts', 'http_server_request_duration_seconds', [
      'route="/api/v1/posts"',
      'status_code="201"',
      'method="POST"',
    ]),
  };
  return {
    authors,
    created,
    report: [
      `1. Post creation: POST /api/v1/posts (title of 6 words, ${fmt(bodyBytes / 1024, 1)} KB JSON with a ~1 KB body, 2 tags, published) by ${clients} signed-in authors in a closed loop, ${fmt(run.seconds, 1)} s after a ${warmupSeconds} s warm-up`,
      `   ${fmt(created201.length / run.seconds)} posts/s; 201 p50 ${fmt(times.p50, 1)} ms, p99 ${fmt(times.p99, 1)} ms, max ${fmt(times.max, 0)} ms; answers: ${statusesOf(run.probes)}`,
      `   mean 201 ${fmt(times.mean, 1)} ms at the client, ${fmt(means.gateway, 1)} ms the gateway waited on posts, ${fmt(means.posts, 1)} ms in posts (its transaction: the row with its tsvector and GIN entry, 2 outbox events, a durable commit)`,
      `   posts' pool of ${fmt(pool.max)} connections (sampled ${fmt(pool.samples)} times): ${fmt(pool.used / Math.max(1, pool.samples), 1)} in use and ${fmt(pool.pending / Math.max(1, pool.samples), 1)} queries waiting for one on average, so about ${fmt((pool.pending / Math.max(1, pool.samples) / (created201.length / run.seconds)) * 1000, 0)} ms of each post's time is the wait for a connection (Little's law)`,
      `   the feed had every post.published ${fmt((drained - loadEnded) / 1000, 2)} s after the load stopped (${fmt(created)} posts with the warm-up)`,
      `   cores busy: ${coresText(usage)}`,
      `   CPU per post (µs): ${cpuPerText(usage, created201.length)}`,
    ],
  };
};

// --- 2. Home feed reads ----------------------------------------------------------------------

/** A reader walking its home feed page by page through the cursors, from the top again at the end. */
const walker = (port: number, token: string, feed: 'home' | 'global', onlyFirst: boolean): LoopClient => {
  let cursor: string | undefined;
  let page = 1;
  return {
    next: () => ({
      request: getRequest(
        port,
        `/api/v1/feed/${feed}?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        feed === 'home' ? token : undefined,
      ),
      kind: `page ${page}`,
    }),
    answered: (answer) => {
      if (onlyFirst) return;
      // next_cursor is the last field of the answer: read from its tail, no JSON parse of 50 entries.
      const tail = answer.body?.toString('latin1', Math.max(0, answer.body.length - 400)) ?? '';
      const next = answer.status === 200 ? /"next_cursor":(?:null|"([^"]+)")\}\s*$/.exec(tail) : null;
      if (next?.[1]) {
        cursor = next[1];
        page += 1;
      } else {
        cursor = undefined;
        page = 1;
      }
    },
  };
};

interface ReadFigures {
  lines: string[];
  byName: Record<string, { first: Stats; deep: Stats; last: Stats; perSecond: number }>;
}

/** The read runs of one feed state: each of `runs` at 1 client (latency) and at `clients` (throughput). */
const readRuns = async (env: Env, runs: { name: string; make: () => LoopClient }[], seconds: number): Promise<ReadFigures> => {
  const { platform, port, clients } = env;
  const widths = [44, 8, 8, 9, 9, 9, 9, 9, 30];
  const lines = [row(['reads', 'clients', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'deep p50', 'deep p99', 'answers'], widths)];
  const byName: ReadFigures['byName'] = {};
  for (const { name, make } of runs) {
    for (const count of [1, clients]) {
      log(`reads: ${name}, ${count} client${count > 1 ? 's' : ''}, ${seconds} s`);
      await closedLoop(port, Array.from({ length: count }, make), 1, ANSWER_TIMEOUT_MS);
      const before = await snapshot(platform);
      const run = await closedLoop(port, Array.from({ length: count }, make), seconds, ANSWER_TIMEOUT_MS);
      const after = await snapshot(platform);
      const ok = run.probes.filter((probe) => probe.status === 200);
      const first = statsOf(ok.filter((probe) => probe.kind === 'page 1').map((probe) => probe.ms));
      const deep = statsOf(ok.filter((probe) => probe.kind !== 'page 1').map((probe) => probe.ms));
      const last = statsOf(ok.filter((probe) => probe.kind === `page ${FEED_DEPTH / PAGE}`).map((probe) => probe.ms));
      const all = statsOf(ok.map((probe) => probe.ms));
      const perSecond = ok.length / run.seconds;
      lines.push(
        row(
          [
            name,
            count,
            fmt(perSecond),
            fmt(deep.n > 0 ? first.p50 : all.p50, 1),
            fmt(deep.n > 0 ? first.p99 : all.p99, 1),
            fmt(all.max, 0),
            deep.n > 0 ? fmt(deep.p50, 1) : '',
            deep.n > 0 ? fmt(deep.p99, 1) : '',
            statusesOf(run.probes),
          ],
          widths,
        ),
      );
      if (count === clients) lines.push(`     cores busy: ${coresText(usageBetween(before, after))}`);
      if (count === clients && name.includes('home')) {
        const feedMean = meanMs(before, after, 'feed', 'http_server_request_duration_seconds', [
          'route="/api/v1/feed/home"',
          'status_code="200"',
        ]);
        lines.push(
          `     mean ${fmt(all.mean, 1)} ms at the client, ${fmt(feedMean, 2)} ms in the feed service${last.n > 0 ? ` (${fmt(last.n)} reads of page ${FEED_DEPTH / PAGE}, the deepest: p50 ${fmt(last.p50, 1)}, p99 ${fmt(last.p99, 1)} ms)` : ''}`,
        );
      }
      byName[`${name}@${count}`] = { first: deep.n > 0 ? first : all, deep, last, perSecond };
    }
  }
  return { lines, byName };
};

interface FeedReadResult {
  reader: SignedIn;
  report: string[];
  figures: ReadFigures;
}

const benchFeedReads = async (env: Env, stamp: number, authors: SignedIn[], created: number, seconds: number): Promise<FeedReadResult> => {
  const { api, port, redis } = env;
  let followees = authors;
  if (created < FEED_DEPTH) {
    // Not enough posts from phase 1 (or it did not run): one more author writes the rest.
    const extra = await signUp(api, 'author-extra', stamp);
    log(`feed: ${FEED_DEPTH - created} more posts by one author`);
    await pooled(
      Array.from({ length: FEED_DEPTH - created }, (_, i) => i),
      4,
      (i) => call(`${api}/posts`, { token: extra.token, body: postPayload(i) }, [201]),
    );
    followees = [...authors, extra];
  }
  const reader = await signUp(api, 'reader', stamp);
  log(`feed: the reader follows ${followees.length} authors`);
  for (const author of followees) await call(`${api}/users/me`, { token: author.token }, [200]);
  await pooled(followees, 4, (author) => follow(api, reader, author.id));
  const homeKey = `${FEED_PREFIX}home:${reader.id}`;
  // Every follow applied (each one's copy of the followee's timeline, and its trim, is one script) and the feed full.
  await waitFor('the feed to apply the reader’s follows and fill its home feed', 120_000, async () =>
    (await redis.scard(`${FEED_PREFIX}following:${reader.id}`)) >= followees.length && (await redis.zcard(homeKey)) >= FEED_DEPTH
      ? true
      : undefined,
  );
  // Through the API: 20 pages of 50, exactly the 1,000 ids of home:<reader>, newest first (ties by id).
  const expected = await redis.zrevrange(homeKey, 0, -1);
  const served: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = (
      await call(`${api}/feed/home?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: reader.token }, [200])
    ).body as { items: { id: string }[]; next_cursor: string | null };
    served.push(...page.items.map((item) => item.id));
    pages += page.items.length > 0 ? 1 : 0;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  if (served.length !== FEED_DEPTH || served.some((id, i) => id !== expected[i])) {
    const first = served.findIndex((id, i) => id !== expected[i]);
    throw new Error(
      `the reader’s home feed gave ${served.length} entries through the API, not the ${expected.length} of ${homeKey} in order (first difference at ${first})`,
    );
  }
  const figures = await readRuns(
    env,
    [
      { name: 'GET /livez (the gateway alone)', make: () => ({ next: () => ({ request: getRequest(port, '/livez'), kind: 'page 1' }) }) },
      { name: 'GET /feed/global?limit=50 (public, 1st page)', make: () => walker(port, reader.token, 'global', true) },
      { name: 'GET /feed/home?limit=50, 1st page', make: () => walker(port, reader.token, 'home', true) },
      { name: 'GET /feed/home?limit=50, pages 1–20', make: () => walker(port, reader.token, 'home', false) },
    ],
    seconds,
  );
  return {
    reader,
    figures,
    report: [
      `2. Home feed reads: one reader follows ${followees.length} authors, whose ${fmt(Math.max(created, FEED_DEPTH))} posts fill their home feed to its ${fmt(FEED_DEPTH)} entries (${pages} pages of ${PAGE} through the API, checked against the ids in Redis); bearer token on every read`,
      `   each run ${seconds} s in a closed loop after 1 s of warm-up; p50/p99 are of the 1st page, "deep" of pages 2–20 reached through next_cursor`,
      ...figures.lines.map((line) => `   ${line}`),
    ],
  };
};

// --- 3. Fan-out ------------------------------------------------------------------------------

interface Publication {
  /** 201 → the entry in Redis (the first poll of post:<id> that found it answered). */
  entryMs: number;
  /** 201 → every follower's home:<follower> confirmed to hold it (a pipelined ZSCORE of each). */
  allMs: number;
  /** The event time (in the post's transaction) → 201 at the client. */
  eventTo201Ms: number;
  /** Time the ADD_POST script ran in Redis (SLOWLOG), µs; NaN when not found there. */
  scriptUs: number;
  homes: number;
  pollMs: number;
}

/**
 * The author publishes a post; the 201 comes back; then Redis is polled: SMEMBERS post:<id> (the
 * entries of the post, written by the same atomic script as the fan-out) every few hundred µs until
 * it names the entry, then ZSCORE home:<f> <entry> for every follower in one pipeline. With
 * `expectHomes`, a follower still missing is polled again until all have it.
 */
const publishAndWatch = async (env: Env, author: SignedIn, followers: string[], expectHomes: boolean, n: number): Promise<Publication> => {
  const { api, redis } = env;
  await redis.slowlog('RESET');
  const { body } = await call(`${api}/posts`, { token: author.token, body: postPayload(n) }, [201]);
  const at201 = performance.now();
  const wall201 = Date.now();
  const postId = (body as { id: string }).id;
  let entryId: string | undefined;
  let entryAt = 0;
  const pollTimes: number[] = [];
  const deadline = at201 + 60_000;
  while (!entryId) {
    if (performance.now() > deadline) throw new Error(`post ${postId} never reached the feed`);
    const sent = performance.now();
    const members = await redis.smembers(`${FEED_PREFIX}post:${postId}`);
    entryAt = performance.now();
    pollTimes.push(entryAt - sent);
    entryId = members[0];
  }
  let missing = followers;
  let allAt = entryAt;
  let homes = 0;
  for (;;) {
    const pipeline = redis.pipeline();
    for (const follower of missing) pipeline.zscore(`${FEED_PREFIX}home:${follower}`, entryId);
    const scores = (await pipeline.exec()) ?? [];
    allAt = performance.now();
    const still = missing.filter((_, i) => scores[i]?.[1] === null || scores[i]?.[1] === undefined);
    homes += missing.length - still.length;
    missing = still;
    if (!expectHomes || missing.length === 0) break;
    if (performance.now() > deadline) throw new Error(`post ${postId} reached ${homes} of ${followers.length} home feeds`);
  }
  const entry = JSON.parse((await redis.get(`${FEED_PREFIX}entry:${entryId}`)) ?? '{}') as { time?: string };
  const slow = (await redis.slowlog('GET', 1024)) as [number, number, number, string[]][];
  const script = slow.find(
    (item) =>
      Array.isArray(item[3]) && item[3].some((arg) => String(arg) === postId) && String(item[3][0]).toLowerCase().startsWith('eval'),
  );
  return {
    entryMs: entryAt - at201,
    allMs: allAt - at201,
    eventTo201Ms: entry.time ? wall201 - Date.parse(entry.time) : NaN,
    scriptUs: script ? Number(script[2]) : NaN,
    homes,
    pollMs: statsOf(pollTimes).p50,
  };
};

const publications = async (
  env: Env,
  author: SignedIn,
  followers: string[],
  expectHomes: boolean,
  count: number,
  label: string,
): Promise<Publication[]> => {
  const results: Publication[] = [];
  for (let i = 0; i < count; i += 1) {
    log(`fan-out: ${label}, post ${i + 1} of ${count}`);
    results.push(await publishAndWatch(env, author, followers, expectHomes, 1_000_000 + i));
    await sleep(300);
  }
  return results;
};

const PUBLICATION_WIDTHS = [40, 6, 7, 18, 20, 18, 10, 8];

const publicationLine = (label: string, results: Publication[], fanout: boolean): string => {
  const entry = statsOf(results.map((r) => r.entryMs));
  const all = statsOf(results.map((r) => r.allMs));
  const script = statsOf(results.map((r) => r.scriptUs).filter((us) => !Number.isNaN(us)));
  const event = statsOf(results.map((r) => r.eventTo201Ms));
  return row(
    [
      label,
      fmt(results.length),
      fmt(results[0]?.homes ?? 0),
      `${fmt(entry.p50, 1)} / ${fmt(entry.max, 1)}`,
      fanout ? `${fmt(all.p50, 1)} / ${fmt(all.max, 1)}` : '—',
      script.n > 0 ? `${fmt(script.p50, 0)} / ${fmt(script.max, 0)}` : 'n/a',
      fmt(event.p50, 1),
      fmt(statsOf(results.map((r) => r.pollMs)).p50, 2),
    ],
    PUBLICATION_WIDTHS,
  );
};

const benchFanout = async (
  env: Env,
  stamp: number,
  reader: SignedIn | undefined,
  followerCount: number,
  posts: number,
  cap: number,
  readSeconds: number,
  baseline: ReadFigures | undefined,
): Promise<string[]> => {
  const { platform, api, port, redis } = env;
  const lonely = await signUp(api, 'fanout-lonely', stamp);
  const star = await signUp(api, 'fanout-star', stamp);
  for (const author of [lonely, star]) await call(`${api}/users/me`, { token: author.token }, [200]);
  const fresh = followerCount - (reader ? 1 : 0);
  log(`fan-out: signing in ${fresh} followers and following the author`);
  const setupStarted = performance.now();
  const followers = await pooled(
    Array.from({ length: fresh }, (_, i) => i),
    6,
    async (i) => {
      const follower = await signUp(api, `follower${i}`, stamp);
      await follow(api, follower, star.id);
      return follower;
    },
  );
  if (reader) {
    await follow(api, reader, star.id);
    followers.push(reader);
  }
  const followerIds = followers.map((follower) => follower.id);
  await waitFor(`the feed to know the ${followerCount} followers`, 120_000, async () =>
    (await redis.scard(`${FEED_PREFIX}followers:${star.id}`)) >= followerCount ? true : undefined,
  );
  const setupSeconds = (performance.now() - setupStarted) / 1000;

  // Slow log of every command over 10 µs (a ZSCORE takes 1–2): finds the fan-out script's own time.
  const saved = (await redis.config('GET', 'slowlog-*')) as string[];
  await redis.config('SET', 'slowlog-log-slower-than', '10');
  await redis.config('SET', 'slowlog-max-len', '1024');
  let lines: string[];
  try {
    const none = await publications(env, lonely, [], false, posts, 'no followers');
    const fanned = await publications(env, star, followerIds, true, posts, `${followerCount} followers`);

    // Over the cap: the feed again with FEED_FANOUT_MAX_FOLLOWERS below the author's followers. The launcher
    // starts a service with this process's environment under its own settings, which do not set it.
    log(`fan-out: restarting the feed with FEED_FANOUT_MAX_FOLLOWERS=${cap}`);
    const feed = platform.service('feed');
    await feed.stop();
    process.env.FEED_FANOUT_MAX_FOLLOWERS = String(cap);
    try {
      await feed.start();
    } finally {
      delete process.env.FEED_FANOUT_MAX_FOLLOWERS;
    }
    const skippedBefore = sumOf(await (await fetch(`${feed.url}/metrics`)).text(), 'feed_fanout_skipped_total');
    const big = await publications(env, star, followerIds, false, posts, `${followerCount} followers over a cap of ${cap}`);
    const skipped = sumOf(await (await fetch(`${feed.url}/metrics`)).text(), 'feed_fanout_skipped_total') - skippedBefore;
    if ((await redis.sismember(`${FEED_PREFIX}big`, star.id)) !== 1 || big.some((p) => p.homes > 0)) {
      throw new Error(`FEED_FANOUT_MAX_FOLLOWERS=${cap} did not apply: the author is not a big account, or posts were fanned out`);
    }
    // Through the API: a sample of followers sees the last post at the top of their home feed (merged in).
    const sample = followers.slice(0, 20);
    const tops = await Promise.all(
      sample.map(
        async (follower) =>
          ((await call(`${api}/feed/home?limit=1`, { token: follower.token }, [200])).body as { items: { actor_id: string }[] }).items[0]
            ?.actor_id,
      ),
    );
    const merged = tops.filter((actor) => actor === star.id).length;

    const perFollowerUs = (statsOf(fanned.map((p) => p.scriptUs)).p50 - statsOf(none.map((p) => p.scriptUs)).p50) / followerCount;
    const perFollowerMinUs =
      (Math.min(...fanned.map((p) => p.scriptUs).filter((us) => !Number.isNaN(us))) -
        Math.min(...none.map((p) => p.scriptUs).filter((us) => !Number.isNaN(us)))) /
      followerCount;
    lines = [
      `3. Fan-out: an author with ${fmt(followerCount)} followers publishes (POST /api/v1/posts through the gateway, one post at a time, ${posts} posts each); set-up (${fmt(fresh)} sign-ups, logins and follows through the gateway, the feed knowing all ${fmt(followerCount)}) took ${fmt(setupSeconds, 0)} s`,
      `   measured from the 201 at the client: Redis polled for SMEMBERS ${FEED_PREFIX}post:<post id> (written by the same atomic Lua script as the fan-out) until it names the entry, then ZSCORE ${FEED_PREFIX}home:<follower> <entry id> for all followers in one pipeline (repeated until every one has it); the script's own time from Redis' SLOWLOG (threshold 10 µs for the run)`,
      `   ${row(['author', 'posts', 'homes', '→ entry p50/max ms', '→ all homes p50/max', 'script µs p50/max', 'event→201', 'poll ms'], PUBLICATION_WIDTHS)}`,
      `   ${publicationLine('no followers (baseline)', none, false)}`,
      `   ${publicationLine(`${fmt(followerCount)} followers, fan-out on write`, fanned, true)}`,
      `   ${publicationLine(`${fmt(followerCount)} followers, cap ${cap}: timeline only`, big, false)}`,
      `   "→ entry": 201 → the entry in Redis; "→ all homes": 201 → every follower's home feed confirmed; "event→201": the post's event time (its transaction) → the 201 at the client; "poll ms": one SMEMBERS round trip, the resolution`,
      `   fan-out cost per follower: ${fmt(perFollowerUs, 2)} µs of Redis script (ZADD + trim of one home feed; from the p50s, ${fmt(perFollowerMinUs, 2)} µs from the fastest of each); 201 → entry is about the same with or without followers, because posts' outbox relay polls every 100 ms when idle (0–100 ms before every event) and the script runs last; every home feed had the post in the first full check after the entry appeared: the entry and the ${fmt(followerCount)} home feeds are written by one atomic script, so they become visible at the same instant`,
      `   over the cap: ${fmt(skipped)} posts kept on the author's timeline (feed_fanout_skipped_total), in 0 home feeds; ${merged} of ${sample.length} sampled followers see it first on their home feed through the API (merged at read)`,
    ];
    if (reader && baseline) {
      // Read-time merge: the reader (one of the followers) reads the same 1,000-entry feed, now merged with the big account's timeline.
      const figures = await readRuns(
        env,
        [
          { name: 'GET /feed/home, 1st page, 1 merged timeline', make: () => walker(port, reader.token, 'home', true) },
          { name: 'GET /feed/home, pages 1–20, 1 merged timeline', make: () => walker(port, reader.token, 'home', false) },
        ],
        readSeconds,
      );
      const compare = (name: string, base: string, count: number) => {
        const now = figures.byName[`${name}@${count}`];
        const then = baseline.byName[`${base}@${count}`];
        if (!now || !then) return '';
        return `${count} client${count > 1 ? 's' : ''}: 1st page p50 ${fmt(then.first.p50, 2)} → ${fmt(now.first.p50, 2)} ms, p99 ${fmt(then.first.p99, 2)} → ${fmt(now.first.p99, 2)} ms; req/s ${fmt(then.perSecond)} → ${fmt(now.perSecond)}`;
      };
      const compareDeep = (name: string, base: string, count: number) => {
        const now = figures.byName[`${name}@${count}`];
        const then = baseline.byName[`${base}@${count}`];
        if (!now || !then) return '';
        return `${count} client${count > 1 ? 's' : ''}: deep pages p50 ${fmt(then.deep.p50, 2)} → ${fmt(now.deep.p50, 2)} ms, p99 ${fmt(then.deep.p99, 2)} → ${fmt(now.deep.p99, 2)} ms`;
      };
      lines.push(
        `   read-time merge: the reader of phase 2 (one of the ${fmt(followerCount)} followers, its own 1,000 entries) now also merges the big account's timeline`,
        ...figures.lines.map((line) => `   ${line}`),
        `   merge cost, without → with: ${compare('GET /feed/home, 1st page, 1 merged timeline', 'GET /feed/home?limit=50, 1st page', 1)}`,
        `                          ${compare('GET /feed/home, 1st page, 1 merged timeline', 'GET /feed/home?limit=50, 1st page', env.clients)}`,
        `                          ${compareDeep('GET /feed/home, pages 1–20, 1 merged timeline', 'GET /feed/home?limit=50, pages 1–20', 1)}`,
        `                          ${compareDeep('GET /feed/home, pages 1–20, 1 merged timeline', 'GET /feed/home?limit=50, pages 1–20', env.clients)}`,
      );
    }
  } finally {
    for (let i = 0; i + 1 < saved.length; i += 2) await redis.config('SET', saved[i]!, saved[i + 1]!);
  }
  return lines;
};

// --- 4. Search over a million posts ---------------------------------------------------------

interface QueryKind {
  kind: string;
  queries: string[];
  /** The same search as ILIKE patterns (all must match, in the title or the body). */
  patterns: (query: string) => string[];
}

const QUERY_KINDS: QueryKind[] = [
  { kind: 'common word', queries: [41, 42, 43, 44, 45].map(wordAt), patterns: (q) => [`%${q}%`] },
  { kind: 'medium word (rank ~400)', queries: [401, 403, 405, 407, 409].map(wordAt), patterns: (q) => [`%${q}%`] },
  { kind: 'rare word (rank ≥ 9,000)', queries: [9_001, 11_003, 13_007, 15_013, 17_011].map(wordAt), patterns: (q) => [`%${q}%`] },
  {
    kind: 'two words (both)',
    queries: ['cache latency', 'database index', 'kafka stream', 'deploy error', 'memory thread'],
    patterns: (q) => q.split(' ').map((word) => `%${word}%`),
  },
  {
    kind: 'two-word phrase ("…")',
    queries: ['"open source"', '"machine learning"', '"connection pool"', '"garbage collection"', '"load balancer"'],
    patterns: (q) => [`%${q.replaceAll('"', '')}%`],
  },
];

const loadPosts = async (db: ReturnType<typeof createDatabase>, count: number, onProgress: (done: number) => void): Promise<void> => {
  const chunk = 10_000;
  const chunks: [number, number][] = [];
  for (let first = 0; first < count; first += chunk) chunks.push([first, Math.min(count, first + chunk) - 1]);
  const end = Date.now() - 60_000;
  const spanMs = 365 * 86_400_000;
  const stepMs = spanMs / count;
  let done = 0;
  // Two sessions at once (two cores): one INSERT ... SELECT keeps one core busy.
  const worker = async () => {
    for (let next = chunks.shift(); next; next = chunks.shift()) {
      const [first, last] = next;
      await db.raw(
        `INSERT INTO posts (id, author_id, title, body, tags, published, published_at, created_at, updated_at, search_language)
         SELECT uuidv7(t - clock_timestamp()), author_id, title, body, tags, true, t, t, t, 'english'::regconfig
           FROM (
             SELECT s.t, s.author_id, s.tags,
                    (SELECT initcap(string_agg(${SQL_WORD}, ' '))
                       FROM (SELECT ${SQL_RANK} AS k, s.head, s.syl FROM generate_series(1, 4 + s.g % 5)) AS w) AS title,
                    (SELECT string_agg(${SQL_WORD}, ' ')
                       FROM (SELECT ${SQL_RANK} AS k, s.head, s.syl FROM generate_series(1, 40 + ((s.g::bigint * 7919) % 41)::int)) AS w) AS body
               FROM (SELECT g, ?::timestamptz + (g * ?::double precision) * interval '1 millisecond' AS t,
                            ('00000000-0000-7000-8000-' || lpad(to_hex(g % 1000), 12, '0'))::uuid AS author_id,
                            ARRAY[(?::text[])[g % ${TAGS.length} + 1], (?::text[])[(g % ${TAGS.length} + 1 + (g / ${TAGS.length}) % ${TAGS.length - 1}) % ${TAGS.length} + 1]] AS tags,
                            ?::text[] AS head, ?::text[] AS syl
                       FROM generate_series(?::int, ?::int) AS g) AS s
           ) AS generated`,
        [new Date(end - spanMs), stepMs, TAGS, TAGS, HEAD, SYLLABLES, first, last],
      );
      done += last - first + 1;
      onProgress(done);
    }
  };
  await Promise.all([worker(), worker()]);
};

const benchSearch = async (env: Env, count: number, seconds: number, maxRequests: number, samplePercent: number): Promise<string[]> => {
  const { platform, port } = env;
  const db = createDatabase({ url: platform.databaseUrl('posts'), poolMax: 2, statementTimeoutMs: 0 });
  try {
    const existing = Number(((await db('posts').count({ n: '*' }).first()) as { n: string } | undefined)?.n ?? 0);
    // The GIN indexes are built after the load (as a restore does), the same definitions the migration made.
    const { rows: gin } = await db.raw<{ rows: { indexname: string; indexdef: string }[] }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'posts' AND indexdef ILIKE '%USING gin%'",
    );
    log(`search: loading ${fmt(count)} posts with SQL (dropping ${gin.map((index) => index.indexname).join(', ')} until the end)`);
    const loadStarted = performance.now();
    for (const index of gin) await db.raw('DROP INDEX ??', [index.indexname]);
    let reported = 0;
    await loadPosts(db, count, (done) => {
      if (done - reported >= 100_000) {
        reported = done;
        log(`search: ${fmt(done)} posts loaded, ${fmt(done / ((performance.now() - loadStarted) / 1000))} rows/s`);
      }
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const indexStarted = performance.now();
    await db.transaction(async (trx) => {
      await trx.raw("SET LOCAL maintenance_work_mem = '1GB'");
      for (const index of gin) await trx.raw(index.indexdef);
    });
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    await db.raw('VACUUM ANALYZE posts');
    const { rows: sizes } = await db.raw<{ rows: { total: string; heap: string; search: string; n: string; body: string }[] }>(
      `SELECT pg_size_pretty(pg_total_relation_size('posts')) AS total, pg_size_pretty(pg_relation_size('posts')) AS heap,
              pg_size_pretty(pg_relation_size('posts_search_idx')) AS search, count(*) AS n, round(avg(length(body))) AS body FROM posts`,
    );
    const size = sizes[0]!;

    const widths = [30, 20, 16, 6, 9, 9, 9, 9, 20, 34];
    const lines = [
      `4. Search: GET /api/v1/posts/search?q=… (public, no token) through the gateway over ${fmt(Number(size.n))} published posts: ${fmt(count)} loaded with SQL (INSERT … SELECT generate_series in 2 sessions: titles of 4–8 and bodies of 40–80 words drawn from a ${fmt(VOCABULARY)}-word vocabulary with Zipf's 1/rank law — 20 English stop words first, then ${HEAD_WORDS.length} developer-blog words, 5 of them two-word phrases, then made-up words — 2 tags of 30, 1,000 authors, published over the last year) beside the ${fmt(existing)} written through the API`,
      `   load ${fmt(loadSeconds, 0)} s (${fmt(count / loadSeconds)} rows/s, tsvector generated on insert), then the GIN indexes ${fmt(indexSeconds, 0)} s; table ${size.total} in all (heap ${size.heap}, posts_search_idx ${size.search}); bodies average ${size.body} characters`,
      `   each kind: its 5 queries in turn, one request at a time, for ${seconds} s (at least 20 and at most ${maxRequests} requests); rows = published posts matching (count(*) with the same tsquery), of which search ranks the newest POSTS_SEARCH_RANKED_MATCHES (1,000 by default)`,
      `   unbounded: the first query of the kind as search ran it before the bound (ts_rank_cd of every match, then the first page), in SQL straight to the database, the second of two runs; × = that time over the p50 through the gateway`,
      `   baseline: ILIKE '%…%' on title or body (no index: a sequential scan) over a ${samplePercent}% sample (TABLESAMPLE SYSTEM), the count of one query of the kind, and that time ×${fmt(100 / samplePercent, 1)} for the whole table`,
      `   ${row(['query kind', 'e.g.', 'rows', 'reqs', 'p50 ms', 'p99 ms', 'max ms', 'in posts', 'unbounded ms (×)', 'ILIKE: sample ms → whole table'], widths)}`,
    ];
    const request = (q: string) => getRequest(port, `/api/v1/posts/search?q=${encodeURIComponent(q)}`);
    // The public list (keyset on an index) through the same gateway and service: the floor of a posts read.
    {
      const connection = connectTo(port);
      const times: number[] = [];
      const until = performance.now() + Math.min(seconds, 5) * 1000;
      while (performance.now() < until) {
        const answer = await connection.exchange(getRequest(port, '/api/v1/posts?limit=20'));
        if (answer.status === 200) times.push(answer.ms);
        if (connection.dead) break;
      }
      connection.close();
      const list = statsOf(times);
      lines.push(
        `   ${row(
          ['baseline: GET /posts?limit=20', 'newest first', '', fmt(list.n), fmt(list.p50, 1), fmt(list.p99, 1), fmt(list.max, 0), '', '', ''],
          widths,
        )}`,
      );
    }
    const before = await snapshot(platform);
    let searches = 0;
    for (const kind of QUERY_KINDS) {
      log(`search: ${kind.kind}`);
      // One count at a time: on a busy machine a count of 150,000 matches takes seconds.
      const matches: number[] = [];
      for (const q of kind.queries) {
        const { rows } = await db.raw<{ rows: { n: string }[] }>(
          `SELECT count(*) AS n FROM posts WHERE published AND search_vector @@ websearch_to_tsquery('english', ?)`,
          [q],
        );
        matches.push(Number(rows[0]!.n));
      }
      const connection = connectTo(port);
      let current = connection;
      // One warm-up request per query.
      for (const q of kind.queries) await current.exchange(request(q));
      const postsMetrics = `${platform.service('posts').url}/metrics`;
      const postsBefore = await (await fetch(postsMetrics)).text();
      const times: number[] = [];
      const failures: Probe[] = [];
      const until = performance.now() + seconds * 1000;
      for (let i = 0; (performance.now() < until || times.length < 20) && times.length < maxRequests; i += 1) {
        if (current.dead) current = connectTo(port);
        const answer = await current.exchange(request(kind.queries[i % kind.queries.length]!));
        if (answer.status === 200) times.push(answer.ms);
        else failures.push({ kind: kind.kind, ms: answer.ms, status: answer.status, failure: answer.failure });
        if (failures.length > 20) break;
      }
      current.close();
      const postsAfter = await (await fetch(postsMetrics)).text();
      const inPostsMs = meanMsOf(postsBefore, postsAfter, 'http_server_request_duration_seconds', [
        'route="/api/v1/posts/search"',
        'status_code="200"',
      ]);
      searches += times.length + failures.length;
      // The baseline: ILIKE over a sample, for the first query of the kind.
      const patterns = kind.patterns(kind.queries[0]!);
      const where = patterns.map(() => '(title ILIKE ? OR body ILIKE ?)').join(' AND ');
      const sample = samplePercent >= 100 ? 'posts' : `posts TABLESAMPLE SYSTEM (${samplePercent}) REPEATABLE (16)`;
      const ilikeStarted = performance.now();
      const ilike = Number(
        (
          (await db.raw(
            `SELECT count(*) AS n FROM ${sample} WHERE published AND ${where}`,
            patterns.flatMap((p) => [p, p]),
          )) as { rows: { n: string }[] }
        ).rows[0]!.n,
      );
      const ilikeMs = performance.now() - ilikeStarted;
      // The statement search ran before its ranked set was bounded, for the same first query.
      let unboundedMs = 0;
      for (let run = 0; run < 2; run += 1) {
        const started = performance.now();
        await db.raw(
          `SELECT id FROM (
             SELECT id, ts_rank_cd(search_vector, query) AS rank
             FROM posts, websearch_to_tsquery('english', ?) AS query
             WHERE published AND search_vector @@ query
           ) AS found
           ORDER BY rank DESC, id DESC
           LIMIT 21`,
          [kind.queries[0]!],
        );
        unboundedMs = performance.now() - started;
      }
      const stats = statsOf(times);
      lines.push(
        `   ${row(
          [
            kind.kind,
            kind.queries[0]!,
            `${fmt(Math.min(...matches))}–${fmt(Math.max(...matches))}`,
            fmt(stats.n),
            fmt(stats.p50, 1),
            fmt(stats.p99, 1),
            fmt(stats.max, 0),
            fmt(inPostsMs, 1),
            `${fmt(unboundedMs, 0)} (×${fmt(unboundedMs / stats.p50, 1)})`,
            `${fmt(ilikeMs, 0)} → ${fmt((ilikeMs * 100) / samplePercent, 0)} (${fmt(ilike)} rows in the sample)`,
          ],
          widths,
        )}`,
      );
      if (failures.length > 0) lines.push(`     not 200: ${statusesOf(failures)}`);
    }
    const after = await snapshot(platform);
    const usage = usageBetween(before, after);
    lines.push(
      `   "in posts": the mean time of the searches in the posts service (nearly all of it its one SQL statement); the p99 of fewer than 100 requests is their maximum`,
      `   cores busy during the searches (one at a time): ${coresText(usage)}; CPU per search (µs): ${cpuPerText(usage, searches)}`,
    );
    return lines;
  } finally {
    await db.destroy();
  }
};

// ---------------------------------------------------------------------------------------------

const PHASES = ['create', 'feed', 'fanout', 'search'] as const;

/**
 * Posts, feeds and search on the distributed platform, every request through the gateway:
 * (1) authors creating posts in a closed loop; (2) home-feed reads of a full 1,000-entry feed, first
 * and deep pages, beside /livez and the global feed; (3) fan-out of a post to 1,000 followers, timed
 * exactly in Redis, beside an author without followers and the same author over the fan-out cap
 * (and the read-time merge that costs); (4) search over a million posts loaded with SQL, by query
 * kind, beside the indexed public list and a sequential ILIKE scan.
 */
export const benchContent = async ({ seconds, concurrency }: ContentBenchOptions): Promise<void> => {
  const clients = Number(process.env.BENCH_CONTENT_CLIENTS ?? concurrency);
  const createSeconds = Number(process.env.BENCH_CONTENT_SECONDS ?? Math.min(30, Math.max(20, seconds)));
  const warmupSeconds = Number(process.env.BENCH_CONTENT_WARMUP_SECONDS ?? 3);
  const readSeconds = Number(process.env.BENCH_CONTENT_READ_SECONDS ?? 5);
  const followers = Number(process.env.BENCH_CONTENT_FOLLOWERS ?? 1_000);
  const fanoutPosts = Number(process.env.BENCH_CONTENT_FANOUT_POSTS ?? 10);
  const cap = Number(process.env.BENCH_CONTENT_FANOUT_CAP ?? Math.floor(followers / 2));
  const searchPosts = Number(process.env.BENCH_CONTENT_SEARCH_POSTS ?? 1_000_000);
  const searchSeconds = Number(process.env.BENCH_CONTENT_SEARCH_SECONDS ?? 10);
  const searchMaxRequests = Number(process.env.BENCH_CONTENT_SEARCH_MAX_REQUESTS ?? 500);
  const samplePercent = Number(process.env.BENCH_CONTENT_ILIKE_SAMPLE_PERCENT ?? 10);
  const phases = new Set((process.env.BENCH_CONTENT_PHASES ?? PHASES.join(',')).split(',').map((phase) => phase.trim()));
  for (const phase of phases)
    if (!(PHASES as readonly string[]).includes(phase))
      throw new Error(`unknown BENCH_CONTENT_PHASES entry ${phase}; known: ${PHASES.join(', ')}`);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-content-'));
  chmodSync(dataDir, 0o711);
  let platform: Platform | undefined;
  let redis: ReturnType<typeof createRedis> | undefined;
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  try {
    log('starting the platform (distributed mode)');
    platform = await startPlatform({
      dataDir,
      output: 'ignore',
      // Tokens outlive the run (an hour), so a reader signed in early still reads at the end.
      env: { LOG_LEVEL: 'warn', AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600' },
      serviceEnv: {
        gateway: { RATE_LIMIT_PER_USER: RAISED_LIMIT, RATE_LIMIT_PER_IP: RAISED_LIMIT, RATE_LIMIT_AUTH_PER_IP: RAISED_LIMIT },
        // Sign-ups are set-up here, not what is measured: argon2id at its lowest cost.
        auth: { AUTH_ARGON2_MEMORY_KIB: '8192', AUTH_ARGON2_TIME_COST: '2' },
      },
    });
    if (!platform.services.feed) throw new Error('the platform runs no feed service (services.json has no `feed`)');
    redis = createRedis(platform.redis.url);
    await waitForRedis(redis);
    const gatewayUrl = platform.gatewayUrl.replace('localhost', '127.0.0.1');
    const env: Env = { platform, api: `${gatewayUrl}/api/v1`, port: Number(new URL(gatewayUrl).port), redis, clients };
    const stamp = Date.now();
    const report: string[] = [];

    let authors: SignedIn[] = [];
    let created = 0;
    if (phases.has('create')) {
      const creation = await benchCreation(env, stamp, createSeconds, warmupSeconds);
      ({ authors, created } = creation);
      report.push(...creation.report);
    }
    let reader: SignedIn | undefined;
    let baseline: ReadFigures | undefined;
    if (phases.has('feed')) {
      const reads = await benchFeedReads(env, stamp, authors, created, readSeconds);
      ({ reader, figures: baseline } = reads);
      report.push(...reads.report);
    }
    if (phases.has('fanout')) report.push(...(await benchFanout(env, stamp, reader, followers, fanoutPosts, cap, readSeconds, baseline)));
    if (phases.has('search')) report.push(...(await benchSearch(env, searchPosts, searchSeconds, searchMaxRequests, samplePercent)));

    process.stdout.write(
      [
        '',
        `Content: posts, home feeds, fan-out and search through the gateway, distributed mode (a process per service; PostgreSQL durable, Redis, Kafka 1 broker), ${cpus().length} CPUs; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end; ${fmt((performance.now() - started) / 1000, 0)} s in all`,
        `  limits raised for the bench: gateway RATE_LIMIT_PER_USER, RATE_LIMIT_PER_IP and RATE_LIMIT_AUTH_PER_IP ${fmt(Number(RAISED_LIMIT))} per window; auth's argon2id at 8 MiB (sign-ups are set-up); no numeric targets: baselines measured in the same run stand beside each figure`,
        ...report.map((line) => `  ${line}`),
        '',
      ].join('\n'),
    );
  } finally {
    await redis?.quit().catch(() => redis?.disconnect());
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
