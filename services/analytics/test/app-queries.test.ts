import { randomUUID } from 'node:crypto';
import type { AppEventRecord } from '../src/domain/tracking';
import { seededRandom, startAnalytics, type AnalyticsHarness } from './harness';

jest.setTimeout(120_000);

const NOW = new Date('2026-06-15T12:00:00Z');
const HOUR = 3_600_000;

/** An application event as the tracking API publishes it. */
const record = (fields: Partial<AppEventRecord> & { name: string; time: string; visitor: string }): AppEventRecord => ({
  id: randomUUID(),
  site: '',
  user_id: null,
  session_id: null,
  host: 'app.example',
  path: null,
  referrer_host: null,
  browser: 'Chrome',
  os: 'Linux',
  device: 'desktop',
  properties: {},
  received_at: fields.time,
  ...fields,
});

/**
 * Each query over application events against a known data set and a reference computed here from
 * the same records, and the funnel against a hand-made sequence. The events are stored through
 * the ingestor (the consumer's path) so their times are exact.
 */
describe('queries over application events', () => {
  let h: AnalyticsHarness;
  const site = randomUUID();
  const records: AppEventRecord[] = [];

  beforeAll(async () => {
    h = await startAnalytics({ now: () => NOW });
    const random = seededRandom(15);
    const names = ['page_view', 'page_view', 'page_view', 'signup_clicked', 'search'];
    const paths = ['/', '/pricing', '/docs', '/blog/a'];
    const referrers = [null, null, 'search.example', 'news.example'];
    const plans = ['free', 'pro', 'team'];
    for (let i = 0; i < 3_000; i += 1) {
      const user = random() < 0.4 ? `user-${Math.floor(random() * 40)}` : null;
      const visitor = user ? `u:${user}` : `d:visitor-${Math.floor(random() * 150)}`;
      const name = names[Math.floor(random() * names.length)]!;
      records.push(
        record({
          name,
          time: new Date(NOW.getTime() - Math.floor(random() * 6 * 24 * HOUR)).toISOString(),
          visitor,
          user_id: user,
          site: random() < 0.5 ? site : '',
          path: name === 'page_view' ? paths[Math.floor(random() * paths.length)]! : '/app',
          referrer_host: name === 'page_view' ? referrers[Math.floor(random() * referrers.length)]! : null,
          properties: name === 'signup_clicked' ? (random() < 0.9 ? { plan: plans[Math.floor(random() * plans.length)]! } : {}) : {},
        }),
      );
    }
    for (let i = 0; i < records.length; i += 500) await h.service.appIngestor.ingest(records.slice(i, i + 500));
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (path: string, query: Record<string, string> = {}) =>
    (await h.http.get(`/api/v1/analytics/app/${path}`).query(query).set('Authorization', h.admin).expect(200)).body;

  /** The reference: group the records by a key, count events, distinct users and visitors, order as the API does. */
  const reference = (rows: AppEventRecord[], key: (row: AppEventRecord) => string | null) => {
    const groups = new Map<string | null, AppEventRecord[]>();
    for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
    return [...groups]
      .map(([value, group]) => ({
        key: value,
        events: group.length,
        users: new Set(group.filter((row) => row.user_id).map((row) => row.user_id)).size,
        visitors: new Set(group.map((row) => row.visitor)).size,
      }))
      .sort((a, b) => b.events - a.events || (a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };
  const range = { from: new Date(NOW.getTime() - 7 * 24 * HOUR).toISOString(), to: NOW.toISOString() };

  it('when names are asked for, then each name has the reference counts, most events first, over every page', async () => {
    const first = await get('names', { ...range, limit: '2' });
    const second = await get('names', { ...range, limit: '2', cursor: first.next_cursor });

    const expected = reference(records, (row) => row.name).map(({ key, ...counts }) => ({ name: key, ...counts }));
    expect(expected).toHaveLength(3);
    expect(first.names).toHaveLength(2);
    expect([...first.names, ...second.names]).toEqual(expected);
    expect(second.next_cursor).toBeNull();
  });

  it('when uniques are asked for one site and one name, then they match the reference', async () => {
    const rows = records.filter((row) => row.site === site && row.name === 'signup_clicked');

    const body = await get('uniques', { ...range, site, name: 'signup_clicked' });

    expect(body).toMatchObject({
      name: 'signup_clicked',
      events: rows.length,
      users: new Set(rows.filter((row) => row.user_id).map((row) => row.user_id)).size,
      visitors: new Set(rows.map((row) => row.visitor)).size,
    });
  });

  it('when top pages and referrers are asked for, then page views per path and per referring host match the reference', async () => {
    const views = records.filter((row) => row.name === 'page_view');

    const pages = await get('pages', range);
    const referrers = await get('referrers', range);

    expect(pages.pages).toEqual(reference(views, (row) => row.path).map((row) => ({ path: row.key, views: row.events, visitors: row.visitors })));
    expect(referrers.referrers).toEqual(
      reference(
        views.filter((row) => row.referrer_host),
        (row) => row.referrer_host,
      ).map((row) => ({ referrer: row.key, visits: row.events, visitors: row.visitors })),
    );
  });

  it('when a property is broken down, then each value (and its absence, as null) has the reference counts', async () => {
    const clicks = records.filter((row) => row.name === 'signup_clicked');

    const body = await get('breakdown', { ...range, name: 'signup_clicked', property: 'plan' });

    expect(body.values).toEqual(
      reference(clicks, (row) => (row.properties.plan as string | undefined) ?? null).map((row) => ({
        value: row.key,
        events: row.events,
        visitors: row.visitors,
      })),
    );
  });

  it('when a daily time series is asked for, then each day holds the reference count, from the hourly rollups', async () => {
    const body = await get('timeseries', { ...range, interval: 'day', name: 'search' });

    const perDay = new Map<string, number>();
    for (const row of records.filter((r) => r.name === 'search')) {
      const day = `${row.time.slice(0, 10)}T00:00:00.000Z`;
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    expect(body.buckets).toHaveLength(8);
    for (const bucket of body.buckets) expect(bucket.events).toBe(perDay.get(bucket.start) ?? 0);
    expect(body.buckets.reduce((sum: number, bucket: { events: number }) => sum + bucket.events, 0)).toBe(
      records.filter((r) => r.name === 'search').length,
    );
  });

  it('when a range is longer than the raw-query limit, then 400 range_too_large; a time series over it is answered', async () => {
    const long = { from: '2026-01-01T00:00:00Z', to: NOW.toISOString() };

    const refused = await h.http.get('/api/v1/analytics/app/names').query(long).set('Authorization', h.admin).expect(400);

    expect(refused.body.error).toBe('range_too_large');
    await h.http.get('/api/v1/analytics/app/timeseries').query({ ...long, interval: 'day' }).set('Authorization', h.admin).expect(200);
  });

  it('when a funnel runs over a hand-made sequence, then a visitor counts at a step only after every earlier step in order', async () => {
    const at = (minutes: number) => new Date(NOW.getTime() - 3 * HOUR + minutes * 60_000).toISOString();
    const steps = ['f_visit', 'f_signup', 'f_pay'];
    const sequence = [
      // a: all three in order
      ['a', 'f_visit', 0],
      ['a', 'f_signup', 1],
      ['a', 'f_pay', 2],
      // b: signs up before visiting, then visits: only the visit counts (signup must come after it)
      ['b', 'f_signup', 0],
      ['b', 'f_visit', 1],
      // c: visit, pay (skipped signup), then signup: reaches step 2 only
      ['c', 'f_visit', 0],
      ['c', 'f_pay', 1],
      ['c', 'f_signup', 2],
      // d: visit, signup, signup again, pay: all three
      ['d', 'f_visit', 0],
      ['d', 'f_signup', 1],
      ['d', 'f_signup', 2],
      ['d', 'f_pay', 3],
      // e: never visits
      ['e', 'f_pay', 0],
    ] as const;
    await h.service.appIngestor.ingest(sequence.map(([who, name, minute]) => record({ name, time: at(minute), visitor: `d:${who}` })));

    const body = await get('funnel', { ...range, steps: steps.join(',') });

    expect(body.steps).toEqual([
      { name: 'f_visit', visitors: 4, conversion: 1 },
      { name: 'f_signup', visitors: 3, conversion: 0.75 },
      { name: 'f_pay', visitors: 2, conversion: 0.5 },
    ]);
  });

  it.each([
    ['one step', { steps: 'a' }],
    ['six steps', { steps: 'a,b,c,d,e,f' }],
    ['a bad name', { steps: 'a,!b' }],
  ])('when a funnel has %s, then 400 validation_failed', async (_what, query) => {
    const response = await h.http.get('/api/v1/analytics/app/funnel').query(query).set('Authorization', h.admin).expect(400);
    expect(response.body.error).toBe('validation_failed');
  });

  it('when a user (not an admin) asks, then 403', async () => {
    await h.http.get('/api/v1/analytics/app/names').set('Authorization', await h.userToken('someone')).expect(403);
  });
});
