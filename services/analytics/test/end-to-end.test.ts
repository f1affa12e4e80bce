import { composeAuth, loadAuthConfig, type ComposedAuth } from '@galion/auth';
import { createDatabase, createLogger, type Knex } from '@galion/kit';
import { startTestServer, testDatabase, testKafkaBrokers, type TestDatabase } from '@galion/localdeps';
import supertest from 'supertest';
import { eventually, joined, startAnalytics, uniqueName, type AnalyticsHarness } from './harness';

jest.setTimeout(120_000);

/**
 * The pipeline as deployed: the real auth service writes events to its outbox, its relay publishes
 * them to the shared Kafka broker, and analytics (verifying tokens against auth's JWKS over HTTP)
 * consumes and stores them. Other tests publish to the same topic, so checks are by user.
 */
describe('from auth through Kafka to analytics', () => {
  let authDatabase: TestDatabase;
  let auth: ComposedAuth;
  let authDb: Knex;
  let authHttp: ReturnType<typeof supertest>;
  let authServer: Awaited<ReturnType<typeof startTestServer>>;
  let analytics: AnalyticsHarness;
  const admin = { email: `admin.${Date.now()}@example.com`, password: 'an admin passphrase' };

  beforeAll(async () => {
    authDatabase = await testDatabase('auth_e2e');
    auth = await composeAuth(
      loadAuthConfig({
        DATABASE_URL: authDatabase.url,
        MIGRATE_ON_START: 'true',
        AUTH_GENERATE_SIGNING_KEY: 'true',
        AUTH_ADMIN_EMAIL: admin.email,
        AUTH_ADMIN_PASSWORD: admin.password,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        OUTBOX_POLL_INTERVAL_MS: '20',
        LOG_LEVEL: 'silent',
      }),
      { logger: createLogger({ service: 'auth', level: 'silent' }) },
    );
    authServer = await startTestServer(auth.app);
    authHttp = supertest(auth.app);
    authDb = createDatabase({ url: authDatabase.url, poolMax: 2 });
    analytics = await startAnalytics({
      configuredVerifier: true,
      env: {
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        ANALYTICS_CONSUMER_ENABLED: 'true',
        ANALYTICS_CONSUMER_GROUP: uniqueName('analytics-e2e'),
        AUTH_JWKS_URL: `${authServer.url}/api/v1/auth/.well-known/jwks.json`,
      },
    });
    await joined(analytics);
  });
  afterAll(async () => {
    await analytics?.close();
    for (const closer of [...(auth?.closers ?? [])].reverse()) await closer.close();
    await authServer?.close();
    await authDb?.destroy();
    await authDatabase?.drop();
  });

  const login = async (email: string, password: string, status = 200) =>
    (await authHttp.post('/api/v1/auth/login').send({ email, password }).expect(status)).body as { access_token: string };

  it('when users register and log in, then every event they caused is in analytics exactly once', async () => {
    const people = await Promise.all(
      ['ann', 'bob', 'cy'].map(async (name) => {
        const user = { email: `${name}.${Date.now()}@example.com`, password: 'a long enough passphrase', name };
        const registered = await authHttp.post('/api/v1/auth/register').send(user).expect(201);
        return { ...user, id: registered.body.id as string };
      }),
    );
    const [ann, bob, cy] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]];
    await login(ann.email, ann.password);
    const annToken = (await login(ann.email, ann.password)).access_token;
    await login(bob.email, 'not the password', 401);
    const cyToken = (await login(cy.email, cy.password)).access_token;
    await authHttp.post('/api/v1/auth/logout').set('Authorization', `Bearer ${cyToken}`).send({}).expect(204);

    const ids = people.map((person) => person.id);
    const outbox = async () =>
      (await authDb('outbox').whereIn('subject', ids).select('event_id')).map((row: { event_id: string }) => row.event_id);
    const stored = async () =>
      (await analytics.db('events').whereIn('user_id', ids).select('event_id')).map((row: { event_id: string }) => row.event_id);
    await eventually(async () => (await stored()).length >= (await outbox()).length, 60_000, 'events in analytics');
    // Give a duplicate time to show up, if there were one.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [sent, received] = [await outbox(), await stored()];
    expect(sent.length).toBeGreaterThanOrEqual(3 + 2 + 1 + 1 + 1);
    expect(received.sort()).toEqual(sent.sort());

    const own = await analytics.http.get(`/api/v1/analytics/users/${ann.id}/events`).set('Authorization', `Bearer ${annToken}`).expect(200);
    expect(own.body.events.map((event: { type: string }) => event.type)).toEqual(['user.logged_in', 'user.logged_in', 'user.registered']);
    await analytics.http.get(`/api/v1/analytics/users/${bob.id}/events`).set('Authorization', `Bearer ${annToken}`).expect(403);

    const adminToken = (await login(admin.email, admin.password)).access_token;
    const bobs = await analytics.http
      .get(`/api/v1/analytics/users/${bob.id}/events`)
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    expect(bobs.body.events.map((event: { type: string }) => event.type)).toEqual(['user.login_failed', 'user.registered']);
    const cys = await analytics.http
      .get('/api/v1/analytics/events')
      .query({ user_id: cy.id })
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    expect(cys.body.events.map((event: { type: string }) => event.type)).toEqual(['user.logged_out', 'user.logged_in', 'user.registered']);
  });
});
