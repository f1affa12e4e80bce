import { createDatabase, createLogger, createRedis, RedisStore, waitForRedis, type Knex } from '@galion/kit';
import { testDatabase, testRedis } from '@galion/localdeps';
import supertest from 'supertest';
import { loadAuthConfig } from '../src/config';
import type { Mailer } from '../src/domain/mailer';
import { composeAuth, type ComposedAuth } from '../src/service';

export interface AuthHarness {
  service: ComposedAuth;
  http: ReturnType<typeof supertest>;
  db: Knex;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Defaults for tests: cheap-but-real argon2, a generated signing key, migrations at start. */
const TEST_ENV = {
  MIGRATE_ON_START: 'true',
  AUTH_GENERATE_SIGNING_KEY: 'true',
  AUTH_ARGON2_MEMORY_KIB: '19456',
  AUTH_ARGON2_TIME_COST: '2',
  LOG_LEVEL: 'silent',
  // Every answer is held to its route's declaration (a 500 otherwise).
  API_CHECK_RESPONSES: 'true',
};

/** Starts auth in-process on its own fresh database and its own Redis key space. */
export const startAuth = async (
  overrides: Record<string, string> = {},
  existing?: { databaseUrl: string },
  infra: { mailer?: Mailer } = {},
): Promise<AuthHarness> => {
  const database = existing ? undefined : await testDatabase('auth');
  const redis = testRedis();
  const env = { ...TEST_ENV, DATABASE_URL: existing?.databaseUrl ?? database!.url, REDIS_URL: redis.url, ...overrides };
  const config = loadAuthConfig(env);
  const redisClient = createRedis(redis.url);
  await waitForRedis(redisClient);
  const store = new RedisStore(redisClient, redis.prefix);
  const service = await composeAuth(config, { logger: createLogger({ service: 'auth', level: 'silent' }), store, ...infra });
  const db = createDatabase({ url: env.DATABASE_URL, poolMax: 2 });
  return {
    service,
    http: supertest(service.app),
    db,
    env,
    async close() {
      for (const closer of [...service.closers].reverse()) await closer.close();
      await store.close();
      await db.destroy();
      await database?.drop();
    },
  };
};

let counter = 0;
/** A fresh, valid registration payload; each call gives a new email. */
export const newUser = (overrides: Partial<{ email: string; password: string; name: string }> = {}) => {
  counter += 1;
  return {
    email: `user${counter}.${Date.now()}@example.com`,
    password: 'a long enough passphrase',
    name: `Test User ${counter}`,
    ...overrides,
  };
};

/** Registers and logs in a new user; returns its credentials and tokens. */
export const registerAndLogin = async (h: AuthHarness, ip = '198.51.100.1') => {
  const user = newUser();
  const registered = await h.http.post('/api/v1/auth/register').send(user).expect(201);
  const login = await h.http
    .post('/api/v1/auth/login')
    .set('X-Forwarded-For', ip)
    .send({ email: user.email, password: user.password })
    .expect(200);
  return {
    user,
    id: registered.body.id as string,
    accessToken: login.body.access_token as string,
    refreshToken: login.body.refresh_token as string,
  };
};

export const outboxEvents = (h: AuthHarness, subject?: string) =>
  h
    .db('outbox')
    .modify((query) => {
      if (subject) query.where({ subject });
    })
    .orderBy('position')
    .select('event_type', 'subject', 'envelope');
