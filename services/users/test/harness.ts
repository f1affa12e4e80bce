import { composeAuth, loadAuthConfig, type ComposedAuth } from '@galion/auth';
import { InProcessEventBus } from '@galion/events';
import { createDatabase, createLogger, createRedis, RedisStore, waitForRedis, type Knex } from '@galion/kit';
import { eventually, startTestServer, testDatabase, testRedis } from '@galion/localdeps';
import { StaticKeySource } from '@galion/tokens';
import supertest from 'supertest';
import { loadUsersConfig } from '../src/config';
import { composeUsers, type ComposedUsers } from '../src/service';

const logger = createLogger({ service: 'test', level: 'silent' });

export interface Platform {
  auth: ReturnType<typeof supertest>;
  users: ReturnType<typeof supertest>;
  authService: ComposedAuth;
  usersService: ComposedUsers;
  usersDb: Knex;
  authDb: Knex;
  bus: InProcessEventBus;
  admin: { email: string; password: string };
  close(): Promise<void>;
}

/**
 * Auth and users on their own fresh databases, sharing one Redis key space and an in-process
 * bus (as in all-in-one mode). `withEvents: false` gives users no bus, so profiles can only
 * come from first access.
 */
export const startPlatform = async (options: { withEvents?: boolean; users?: Record<string, string> } = {}): Promise<Platform> => {
  const [authDatabase, usersDatabase] = await Promise.all([testDatabase('auth'), testDatabase('users')]);
  const redis = testRedis();
  const redisClient = createRedis(redis.url);
  await waitForRedis(redisClient);
  const store = new RedisStore(redisClient, redis.prefix);
  const bus = new InProcessEventBus();
  const admin = { email: `admin.${Date.now()}@example.com`, password: 'admin passphrase here' };
  const authService = await composeAuth(
    loadAuthConfig({
      DATABASE_URL: authDatabase.url,
      MIGRATE_ON_START: 'true',
      AUTH_GENERATE_SIGNING_KEY: 'true',
      AUTH_ADMIN_EMAIL: admin.email,
      AUTH_ADMIN_PASSWORD: admin.password,
      OUTBOX_POLL_INTERVAL_MS: '20',
      API_CHECK_RESPONSES: 'true',
    }),
    { logger, store, bus },
  );
  const authServer = await startTestServer(authService.app);
  const usersService = await composeUsers(
    loadUsersConfig({
      DATABASE_URL: usersDatabase.url,
      MIGRATE_ON_START: 'true',
      AUTH_URL: authServer.url,
      OUTBOX_POLL_INTERVAL_MS: '20',
      // Every answer is held to its route's declaration (a 500 otherwise).
      API_CHECK_RESPONSES: 'true',
      ...options.users,
    }),
    {
      logger,
      store,
      bus: options.withEvents === false ? undefined : bus,
      keys: await StaticKeySource.fromJwks(authService.keys.publicJwks()),
    },
  );
  const usersDb = createDatabase({ url: usersDatabase.url, poolMax: 2 });
  const authDb = createDatabase({ url: authDatabase.url, poolMax: 2 });
  return {
    auth: supertest(authService.app),
    users: supertest(usersService.app),
    authService,
    usersService,
    usersDb,
    authDb,
    bus,
    admin,
    async close() {
      for (const closer of [...usersService.closers].reverse()) await closer.close();
      for (const closer of [...authService.closers].reverse()) await closer.close();
      await bus.close();
      await authServer.close();
      await store.close();
      await Promise.all([usersDb.destroy(), authDb.destroy()]);
      await Promise.all([authDatabase.drop(), usersDatabase.drop()]);
    },
  };
};

let counter = 0;

/** Registers and logs in a new user through auth; returns its id, credentials and tokens. */
export const newUser = async (p: Platform, overrides: { name?: string; email?: string } = {}) => {
  counter += 1;
  const user = {
    email: overrides.email ?? `user${counter}.${Date.now()}@example.com`,
    password: 'a long enough passphrase',
    name: overrides.name ?? `User ${counter}`,
  };
  const registered = await p.auth.post('/api/v1/auth/register').send(user).expect(201);
  const login = await p.auth.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
  return {
    ...user,
    id: registered.body.id as string,
    token: login.body.access_token as string,
    refreshToken: login.body.refresh_token as string,
  };
};

export const loginAdmin = async (p: Platform) => {
  const login = await p.auth.post('/api/v1/auth/login').send(p.admin).expect(200);
  return login.body.access_token as string;
};

/** Waits until the users service holds a profile for `id` (the registration event arrived). */
export const profileArrives = (p: Platform, id: string) =>
  eventually(async () => (await p.usersDb('profiles').where({ id }).first()) !== undefined, 10_000, `profile ${id}`);

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
