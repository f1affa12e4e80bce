import { randomUUID } from 'node:crypto';
import { testKafkaBrokers } from '@galion/localdeps';
import { KafkaEventBus } from '@galion/events';
import { eventually, silentLogger, startAnalytics, testKafka, uniqueName, type AnalyticsHarness } from './harness';

jest.setTimeout(120_000);

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SITE_ORIGIN = 'https://shop.example';

/**
 * The tracking API against the real broker and PostgreSQL: what it accepts and refuses, what it
 * stores (and what it does not: addresses), keys, origins and limits. Each test has its own users
 * and sites; the topic and groups are the suite's own.
 */
describe('the tracking API (POST /api/v1/analytics/events)', () => {
  let h: AnalyticsHarness;
  const appTopic = uniqueName('app-events');
  const appDlq = `${appTopic}.dlq`;

  beforeAll(async () => {
    h = await startAnalytics({
      env: {
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        ANALYTICS_CONSUMER_ENABLED: 'true',
        ANALYTICS_TOPIC: uniqueName('user-events'),
        ANALYTICS_CONSUMER_GROUP: uniqueName('analytics'),
        ANALYTICS_APP_TOPIC: appTopic,
        ANALYTICS_APP_DLQ_TOPIC: appDlq,
        ANALYTICS_APP_CONSUMER_GROUP: uniqueName('analytics-app'),
      },
    });
    await h.service.appConsumer!.started;
    await eventually(() => h.service.appConsumer!.subscription?.ready === true, 60_000, 'app consumer joined');
  });
  afterAll(async () => {
    await h?.close();
  });

  const track = (query = '') => h.http.post(`/api/v1/analytics/events${query}`);
  const event = (name: string, extra: Record<string, unknown> = {}) => ({ name, id: randomUUID(), time: new Date().toISOString(), ...extra });
  const storedFor = async (column: 'user_id' | 'site', value: string) =>
    (await h.db('app_events').where(column, value).orderBy('event_time')) as Record<string, unknown>[];
  const createSite = async (fields: Record<string, unknown> = {}) => {
    const response = await h.http
      .post('/api/v1/analytics/sites')
      .set('Authorization', h.admin)
      .send({ name: 'Shop', allowed_origins: [SITE_ORIGIN], ...fields })
      .expect(201);
    return response.body as { id: string; key: string };
  };

  it('when a user sends a batch with their token, then every event is accepted, published and stored as theirs', async () => {
    const user = randomUUID();
    const events = [event('page_view', { url: 'https://app.example/pricing?ref=x#top' }), event('signup_clicked', { properties: { plan: 'pro' } })];

    const response = await track().set('Authorization', await h.userToken(user)).set('User-Agent', CHROME_WINDOWS).send({ events }).expect(202);

    expect(response.body).toEqual({
      accepted: 2,
      refused: 0,
      results: events.map((e, index) => ({ index, status: 'accepted', id: e.id })),
    });
    await eventually(async () => (await storedFor('user_id', user)).length === 2, 20_000, 'events stored');
    const [pageView, click] = await storedFor('user_id', user);
    expect(pageView).toMatchObject({ name: 'page_view', host: 'app.example', path: '/pricing', visitor: `u:${user}`, site: '' });
    expect(pageView).toMatchObject({ browser: 'Chrome', os: 'Windows', device: 'desktop' });
    expect(click).toMatchObject({ name: 'signup_clicked', properties: { plan: 'pro' } });
  });

  it('when one event of a batch is bad, then only it is refused, with its reason, and the others are stored', async () => {
    const user = randomUUID();
    const good = event('ok');
    const batch = [
      good,
      { name: '!bad name' },
      event('too_old', { time: new Date(Date.now() - 8 * 86_400_000).toISOString() }),
      event('too_new', { time: new Date(Date.now() + 2 * 3_600_000).toISOString() }),
      event('bad_props', { properties: { nested: { a: 1 } } }),
      event('unknown_field', { colour: 'red' }),
    ];

    const response = await track().set('Authorization', await h.userToken(user)).send({ events: batch }).expect(202);

    expect(response.body.accepted).toBe(1);
    expect(response.body.refused).toBe(5);
    expect(response.body.results.map((r: { status: string; error?: string }) => r.error ?? r.status)).toEqual([
      'accepted',
      'invalid_event',
      'invalid_time',
      'invalid_time',
      'invalid_event',
      'invalid_event',
    ]);
    expect(response.body.results[1].message).toMatch(/^name:/);
    await eventually(async () => (await storedFor('user_id', user)).length === 1, 20_000, 'the good event stored');
    expect((await storedFor('user_id', user)).map((row) => row.name)).toEqual(['ok']);
  });

  it.each([
    ['more than 500 events', () => ({ events: Array.from({ length: 501 }, () => ({ name: 'x' })) }), 400, 'validation_failed'],
    ['no events', () => ({ events: [] }), 400, 'validation_failed'],
    ['an event that is not an object', () => ({ events: ['page_view'] }), 400, 'validation_failed'],
    ['an unknown top-level field', () => ({ events: [{ name: 'x' }], extra: 1 }), 400, 'validation_failed'],
  ])('when the batch has %s, then the whole batch is refused with %s', async (_what, body, status, code) => {
    const response = await track().set('Authorization', await h.userToken(randomUUID())).send(body()).expect(status);
    expect(response.body.error).toBe(code);
  });

  it('when the body is over 1 MB, then 413 payload_too_large; not JSON: 400 malformed_json; another type: 415', async () => {
    const token = await h.userToken(randomUUID());
    const huge = JSON.stringify({ events: [{ name: 'x', properties: { big: 'y'.repeat(1_100_000) } }] });
    expect((await track().set('Authorization', token).set('Content-Type', 'application/json').send(huge).expect(413)).body.error).toBe(
      'payload_too_large',
    );
    expect((await track().set('Authorization', token).set('Content-Type', 'text/plain').send('{not json').expect(400)).body.error).toBe(
      'malformed_json',
    );
    expect((await track().set('Authorization', token).set('Content-Type', 'application/xml').send('<a/>').expect(415)).body.error).toBe(
      'unsupported_media_type',
    );
  });

  it('when no token and no key is sent, then 401 credentials_missing; an unknown key: 401 key_invalid; a bad token: 401', async () => {
    expect((await track().send({ events: [event('x')] }).expect(401)).body.error).toBe('credentials_missing');
    expect((await track('?key=pk_nosuchkey').send({ events: [event('x')] }).expect(401)).body.error).toBe('key_invalid');
    expect((await track().set('Authorization', 'Bearer not-a-token').send({ events: [event('x')] }).expect(401)).body.error).toBe(
      'token_invalid',
    );
  });

  it('when a page of an allowed origin sends with the site key as text/plain, then it is accepted with CORS headers, and no address is stored', async () => {
    const site = await createSite();
    const body = JSON.stringify({ events: [event('page_view', { url: `${SITE_ORIGIN}/`, referrer: 'https://search.example/?q=shoes' })] });

    const response = await track(`?key=${site.key}`)
      .set('Origin', SITE_ORIGIN)
      .set('Content-Type', 'text/plain;charset=UTF-8')
      .set('X-Forwarded-For', '203.0.113.77')
      .set('User-Agent', CHROME_WINDOWS)
      .send(body)
      .expect(202);

    expect(response.headers['access-control-allow-origin']).toBe(SITE_ORIGIN);
    expect(response.headers.vary).toMatch(/Origin/);
    await eventually(async () => (await storedFor('site', site.id)).length === 1, 20_000, 'site event stored');
    const [row] = await storedFor('site', site.id);
    expect(row).toMatchObject({ user_id: null, referrer_host: 'search.example', path: '/' });
    expect(String(row!.visitor)).toMatch(/^d:[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(row)).not.toContain('203.0.113.77');
  });

  it('when the same visitor sends twice in a day, then both events count as one visitor; another address is another visitor', async () => {
    const site = await createSite();
    const send = (ip: string) =>
      track(`?key=${site.key}`).set('Origin', SITE_ORIGIN).set('X-Forwarded-For', ip).set('User-Agent', CHROME_WINDOWS).send({ events: [event('page_view')] }).expect(202);
    await send('198.51.100.1');
    await send('198.51.100.1');
    await send('198.51.100.2');

    await eventually(async () => (await storedFor('site', site.id)).length === 3, 20_000, 'three events stored');
    expect(new Set((await storedFor('site', site.id)).map((row) => row.visitor)).size).toBe(2);
  });

  it('when a page of another origin sends with the key, then 403 origin_not_allowed and nothing is stored', async () => {
    const site = await createSite();

    const response = await track(`?key=${site.key}`).set('Origin', 'https://evil.example').send({ events: [event('page_view')] }).expect(403);

    expect(response.body.error).toBe('origin_not_allowed');
    // The page's script may read the refusal (and drop the batch rather than retry it).
    expect(response.headers['access-control-allow-origin']).toBe('https://evil.example');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await storedFor('site', site.id)).toHaveLength(0);
  });

  it('when a site sends more events per minute than its limit, then the batch is refused with 429 and Retry-After', async () => {
    const site = await createSite({ events_per_minute: 5 });
    await track(`?key=${site.key}`).set('Origin', SITE_ORIGIN).send({ events: [event('a'), event('b'), event('c')] }).expect(202);

    const response = await track(`?key=${site.key}`).set('Origin', SITE_ORIGIN).send({ events: [event('d'), event('e'), event('f')] });

    expect(response.status).toBe(429);
    expect(response.body.error).toBe('rate_limited');
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('when a site is revoked, then its key is refused', async () => {
    const site = await createSite();
    await h.http.delete(`/api/v1/analytics/sites/${site.id}`).set('Authorization', h.admin).expect(204);

    expect((await track(`?key=${site.key}`).set('Origin', SITE_ORIGIN).send({ events: [event('x')] }).expect(401)).body.error).toBe('key_invalid');
  });

  it('when a batch is retried with the same ids and times, then each event is stored once', async () => {
    const user = randomUUID();
    const token = await h.userToken(user);
    const events = Array.from({ length: 20 }, (_, i) => event(`retry_${i % 4}`));

    await track().set('Authorization', token).send({ events }).expect(202);
    await track().set('Authorization', token).send({ events }).expect(202);
    await track().set('Authorization', token).send({ events: events.slice(0, 5) }).expect(202);

    // Events of one user share a partition (keyed by user), so once this last one is stored, every batch before it was handled.
    await track().set('Authorization', token).send({ events: [event('marker')] }).expect(202);
    await eventually(async () => (await storedFor('user_id', user)).some((row) => row.name === 'marker'), 20_000, 'the marker stored');

    expect((await storedFor('user_id', user)).filter((row) => row.name !== 'marker')).toHaveLength(20);
    const counted = await h.db('app_event_counts_hourly').where('name', 'like', 'retry_%').sum({ n: 'count' }).first();
    expect(Number(counted?.n)).toBe(20);
  });

  it('when a message on the app-events topic is not what the API writes, then it goes to the dead-letter topic and the events behind it are stored', async () => {
    const user = randomUUID();
    const producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'tracking-test', logger: silentLogger });
    try {
      await producer.publish(appTopic, [
        { key: user, value: 'not json' },
        { key: user, value: JSON.stringify([{ id: 'not-a-uuid' }]) },
      ]);
      await track().set('Authorization', await h.userToken(user)).send({ events: [event('after_poison')] }).expect(202);

      await eventually(async () => (await storedFor('user_id', user)).length === 1, 20_000, 'the event behind the poison stored');
      const reasons: string[] = [];
      const reader = testKafka().consumer({ groupId: uniqueName('app-dlq-reader') });
      await reader.connect();
      await reader.subscribe({ topic: appDlq, fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => void reasons.push(String(message.headers?.['dlq-reason'])) });
      await eventually(() => reasons.length >= 2, 20_000, 'two dead letters');
      await reader.disconnect();
      expect(reasons).toEqual(['not JSON', 'invalid app event [0]: id: not a UUID']);
    } finally {
      await producer.close();
    }
  });
});
