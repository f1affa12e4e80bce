import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createEvent, InProcessEventBus, type EventBus, type EventEnvelope, type EventType } from '@galion/events';
import { createDatabase, createLogger, type Knex } from '@galion/kit';
import { testDatabase, testKafkaBrokers } from '@galion/localdeps';
import { Kafka, logLevel } from 'kafkajs';
import { StaticKeySource, TokenVerifier } from '@galion/tokens';
import { SignJWT } from 'jose';
import supertest from 'supertest';
import { loadAnalyticsConfig } from '../src/config';
import { composeAnalytics, type ComposedAnalytics } from '../src/service';

export const ISSUER = 'https://api.example.test/api/v1/auth';
export const silentLogger = createLogger({ service: 'analytics-test', level: 'silent' });

/** An Ed25519 key of the test's own, a verifier that trusts it, and tokens signed with it. */
export const testTokens = async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  const verifier = new TokenVerifier({
    keys: await StaticKeySource.fromJwks({ keys: [jwk as never] }),
    issuer: ISSUER,
    audience: 'galion',
  });
  const sign = (sub: string, role: 'user' | 'admin') =>
    new SignJWT({ role })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience('galion')
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { verifier, sign };
};

export interface AnalyticsHarness {
  service: ComposedAnalytics;
  http: ReturnType<typeof supertest>;
  db: Knex;
  databaseUrl: string;
  /** Bearer header values. */
  admin: string;
  userToken(userId: string): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  bus?: EventBus;
  now?: () => Date;
  /** Use this database instead of a fresh one on the shared server (outage tests). */
  databaseUrl?: string;
  /** Verify tokens as configured (AUTH_JWKS_URL) instead of with the test's own key. */
  configuredVerifier?: boolean;
}

/**
 * Starts analytics in-process on a fresh database. The consumers run only when a bus is given (or
 * the test's env turns them on with KAFKA_BROKERS); otherwise the tracking API publishes to an
 * in-process bus nobody reads.
 */
export const startAnalytics = async (options: HarnessOptions = {}): Promise<AnalyticsHarness> => {
  const database = options.databaseUrl ? undefined : await testDatabase('analytics');
  const databaseUrl = options.databaseUrl ?? database!.url;
  const env = {
    MIGRATE_ON_START: 'true',
    LOG_LEVEL: 'silent',
    API_CHECK_RESPONSES: 'true',
    DATABASE_URL: databaseUrl,
    ANALYTICS_CONSUMER_ENABLED: options.bus ? 'true' : 'false',
    ...options.env,
  };
  const tokens = await testTokens();
  const service = await composeAnalytics(loadAnalyticsConfig(env), {
    logger: silentLogger,
    bus: options.bus ?? (env.KAFKA_BROKERS ? undefined : new InProcessEventBus()),
    verifier: options.configuredVerifier ? undefined : tokens.verifier,
    createDatabase: true,
    now: options.now,
  });
  const db = createDatabase({ url: databaseUrl, poolMax: 2 });
  const admin = `Bearer ${await tokens.sign(randomUUID(), 'admin')}`;
  return {
    service,
    http: supertest(service.app),
    db,
    databaseUrl,
    admin,
    userToken: async (userId) => `Bearer ${await tokens.sign(userId, 'user')}`,
    async close() {
      for (const closer of [...service.closers].reverse()) await closer.close();
      await db.destroy();
      await database?.drop();
    },
  };
};

/** An event of `type` for `subject` at `time`, valid against the shared schemas. */
export const makeEvent = (type: EventType, subject: string, time: Date | string): EventEnvelope => {
  const at = typeof time === 'string' ? new Date(time) : time;
  const data: Record<EventType, Record<string, unknown>> = {
    'user.registered': { email: `${subject}@example.com`, name: subject, role: 'user' },
    'user.logged_in': { ip: '198.51.100.7' },
    'user.login_failed': { reason: 'wrong_password' },
    'user.logged_out': { all_sessions: false },
    'user.updated': { changes: ['name'] },
    'user.deleted': {},
    'user.password_changed': { reason: 'change' },
    'user.email_verified': { email: `${subject}@example.com` },
    'user.followed': { followee_id: 'someone' },
    'user.unfollowed': { followee_id: 'someone' },
    'post.created': { post_id: 'p1', title: 'A post', published: true, tags: [] },
    'post.updated': { post_id: 'p1', changes: ['title'], published: true },
    'post.published': { post_id: 'p1', title: 'A post', tags: [] },
    'post.deleted': { post_id: 'p1' },
    'comment.created': { comment_id: 'c1', post_id: 'p1', post_author_id: 'someone' },
    'comment.deleted': { comment_id: 'c1', post_id: 'p1' },
    'media.uploaded': { media_id: 'm1', content_type: 'image/jpeg', bytes: 48_213, width: 640, height: 480 },
    'media.deleted': { media_id: 'm1' },
  };
  const event = createEvent(type, { source: 'test', subject, data: data[type] as never, time: at });
  // Keep a time given as text exactly (microseconds included).
  return typeof time === 'string' ? { ...event, time } : event;
};

/** A small deterministic random generator (mulberry32), so data sets are the same on every run. */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** Waits until `predicate` holds, polling. */
export const eventually = async (predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

export const uniqueName = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;

/** Rows in the raw events table. */
export const storedCount = async (db: Knex): Promise<number> => Number((await db('events').count({ n: '*' }).first())?.n ?? 0);

/** Sum of the hourly rollup counts. */
export const rolledUpCount = async (db: Knex): Promise<number> =>
  Number((await db('event_counts_hourly').sum({ n: 'count' }).first())?.n ?? 0);

/** The value of a metric sample in the Prometheus text format, or undefined when absent. */
export const metricValue = (text: string, sample: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
};

/** `analytics_consumer_lag` of `topic` in the Prometheus text format, by partition. */
export const consumerLagOf = (text: string, topic: string): Record<string, number> => {
  const lags: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^analytics_consumer_lag\{(.*)\} (\S+)$/.exec(line);
    const labels = Object.fromEntries([...(match?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]));
    if (match && labels.topic === topic && labels.partition !== undefined) lags[labels.partition] = Number(match[2]);
  }
  return lags;
};

/** The sum of `consumerLagOf` over the partitions. */
export const totalLagOf = (text: string, topic: string): number =>
  Object.values(consumerLagOf(text, topic)).reduce((sum, lag) => sum + lag, 0);

/** A kafkajs client on the shared test broker, for what a test checks behind the bus's back. */
export const testKafka = (brokers: string[] = testKafkaBrokers()) => new Kafka({ brokers, logLevel: logLevel.NOTHING });

/** Committed offsets of a group on a topic, summed over partitions (a partition with none counts 0). */
export const committedTotal = async (groupId: string, topic: string): Promise<number> => {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (result?.partitions ?? []).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
  } finally {
    await admin.disconnect();
  }
};

/** Waits until the service's consumer has joined its group. */
export const joined = async (h: AnalyticsHarness): Promise<void> => {
  await h.service.consumer!.started;
  await eventually(() => h.service.consumer!.subscription?.ready === true, 60_000, 'consumer joined');
};
