import { EVENT_TYPES, type EventEnvelope, type EventType } from '@galion/events';
import { makeEvent, seededRandom, startAnalytics, type AnalyticsHarness } from './harness';

/** Every type but user.deleted, which erases its user's events from the store (docs/analytics.md: Erasure). */
const KEPT_TYPES = EVENT_TYPES.filter((type) => type !== 'user.deleted');

/**
 * Every query endpoint against a known data set: a few hand-placed events whose answers are
 * written out, plus a seeded random set checked against a straightforward reference computed
 * here from the same events.
 */
const NOW = new Date('2026-03-15T12:34:56.789Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const handPlaced: EventEnvelope[] = [
  // Before the random set begins (03-05), so the answers over 03-01..03-04 are these alone.
  makeEvent('user.registered', 'alice', '2026-03-01T09:15:00.000Z'),
  makeEvent('user.logged_in', 'alice', '2026-03-01T09:20:00.000Z'),
  makeEvent('user.logged_in', 'alice', '2026-03-03T14:00:00.000Z'),
  makeEvent('user.registered', 'bob', '2026-03-02T23:59:59.999Z'),
  makeEvent('user.login_failed', 'bob', '2026-03-03T00:00:00.000Z'),
  makeEvent('user.logged_in', 'bob', '2026-03-03T00:00:00.001Z'),
  makeEvent('user.logged_in', 'carol', '2026-03-14T10:30:00.123456Z'),
];

const random = seededRandom(20_260_315);
const users = Array.from({ length: 25 }, (_, i) => `user-${i}`);
const start = Date.parse('2026-03-05T00:00:00Z');
const randomSet: EventEnvelope[] = Array.from({ length: 600 }, () =>
  makeEvent(
    KEPT_TYPES[Math.floor(random() * KEPT_TYPES.length)]!,
    users[Math.floor(random() * users.length)]!,
    new Date(start + Math.floor(random() * (NOW.getTime() - start))),
  ),
);

/** The answers computed the plain way, from the events themselves. */
const reference = (events: EventEnvelope[], from: Date, to: Date) => {
  const inRange = events.filter((event) => Date.parse(event.time) >= from.getTime() && Date.parse(event.time) < to.getTime());
  const byType = Object.fromEntries(EVENT_TYPES.map((type) => [type, inRange.filter((event) => event.type === type).length]));
  const times = inRange.map((event) => Date.parse(event.time)).sort((a, b) => a - b);
  return {
    total: inRange.length,
    by_type: byType,
    distinct_users: new Set(inRange.map((event) => event.subject)).size,
    first_event_at: times.length > 0 ? new Date(times[0]!).toISOString() : null,
    last_event_at: times.length > 0 ? new Date(times.at(-1)!).toISOString() : null,
  };
};

let h: AnalyticsHarness;
beforeAll(async () => {
  h = await startAnalytics({ now: () => NOW });
  const all = [...handPlaced, ...randomSet];
  for (let i = 0; i < all.length; i += 100) await h.service.ingestor.ingest(all.slice(i, i + 100));
});
afterAll(async () => {
  await h?.close();
});

const get = (path: string, query: Record<string, string> = {}) =>
  h.http.get(`/api/v1/analytics${path}`).query(query).set('Authorization', h.admin);

describe('GET /summary', () => {
  it('when no range is given, then it covers the last 7 days', async () => {
    const response = await get('/summary').expect(200);
    const from = new Date(NOW.getTime() - 7 * DAY);
    expect(response.body).toEqual({
      from: from.toISOString(),
      to: NOW.toISOString(),
      ...reference([...handPlaced, ...randomSet], from, NOW),
    });
  });

  it('when the range holds the hand-placed events, then the totals are the written-out ones', async () => {
    const response = await get('/summary', { from: '2026-03-01T09:00:00Z', to: '2026-03-03T14:00:00.001Z' }).expect(200);
    expect(response.body).toMatchObject({
      total: 6,
      distinct_users: 2,
      first_event_at: '2026-03-01T09:15:00.000Z',
      last_event_at: '2026-03-03T14:00:00.000Z',
    });
    expect(response.body.by_type).toMatchObject({ 'user.registered': 2, 'user.logged_in': 3, 'user.login_failed': 1, 'user.deleted': 0 });
  });

  it('when a range starts and ends inside hours, then the partial hours are counted exactly', async () => {
    const response = await get('/summary', { from: '2026-03-02T23:59:59.999Z', to: '2026-03-03T00:00:00.001Z' }).expect(200);
    expect(response.body).toMatchObject({ total: 2, distinct_users: 1, last_event_at: '2026-03-03T00:00:00.000Z' });
    expect(response.body.by_type).toMatchObject({ 'user.registered': 1, 'user.login_failed': 1, 'user.logged_in': 0 });
  });

  it('when any of many random ranges is asked, then every figure matches the reference', async () => {
    const pick = seededRandom(7);
    const lo = Date.parse('2026-03-04T00:00:00Z');
    const hi = Date.parse('2026-03-16T00:00:00Z');
    for (let i = 0; i < 40; i += 1) {
      let a = lo + Math.floor(pick() * (hi - lo));
      let b = lo + Math.floor(pick() * (hi - lo));
      if (i % 4 === 0) [a, b] = [Math.floor(a / HOUR) * HOUR, Math.ceil(b / HOUR) * HOUR];
      const [from, to] = [new Date(Math.min(a, b)), new Date(Math.max(a, b))];
      const response = await get('/summary', { from: from.toISOString(), to: to.toISOString() }).expect(200);
      expect({ range: [from, to], ...response.body }).toEqual({
        range: [from, to],
        from: from.toISOString(),
        to: to.toISOString(),
        ...reference([...handPlaced, ...randomSet], from, to),
      });
    }
  });

  it('when the range holds no events, then zeros and null times', async () => {
    const response = await get('/summary', { from: '2020-01-01', to: '2020-02-01' }).expect(200);
    expect(response.body).toMatchObject({ total: 0, distinct_users: 0, first_event_at: null, last_event_at: null });
    expect(Object.values(response.body.by_type)).toEqual(EVENT_TYPES.map(() => 0));
  });
});

describe('GET /events/by-type', () => {
  it('when asked for a range, then every type is listed with its count, most frequent first', async () => {
    const from = new Date('2026-03-08T06:45:00Z');
    const to = new Date('2026-03-13T17:10:00Z');
    const response = await get('/events/by-type', { from: from.toISOString(), to: to.toISOString() }).expect(200);
    const expected = reference([...handPlaced, ...randomSet], from, to).by_type;
    expect(response.body.types).toHaveLength(EVENT_TYPES.length);
    expect(Object.fromEntries(response.body.types.map((entry: { type: string; count: number }) => [entry.type, entry.count]))).toEqual(
      expected,
    );
    const counts = response.body.types.map((entry: { count: number }) => entry.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });
});

describe('GET /timeseries', () => {
  const bucketsOf = (events: EventEnvelope[], from: number, to: number, stride: number, type?: EventType) => {
    const first = Math.floor(from / stride) * stride;
    const last = Math.ceil(to / stride) * stride;
    const buckets: { start: string; count: number }[] = [];
    for (let at = first; at < last; at += stride) {
      buckets.push({
        start: new Date(at).toISOString(),
        count: events.filter(
          (event) => (!type || event.type === type) && Date.parse(event.time) >= at && Date.parse(event.time) < at + stride,
        ).length,
      });
    }
    return buckets;
  };

  it('when interval=hour, then one bucket per hour, empty ones included, with the right counts', async () => {
    const from = '2026-03-02T22:30:00Z';
    const to = '2026-03-03T03:00:00Z';
    const response = await get('/timeseries', { interval: 'hour', from, to }).expect(200);
    expect(response.body).toMatchObject({ interval: 'hour', type: null, from: '2026-03-02T22:00:00.000Z', to: '2026-03-03T03:00:00.000Z' });
    expect(response.body.buckets.map((bucket: { count: number }) => bucket.count)).toEqual([0, 1, 2, 0, 0]);
    expect(response.body.buckets).toEqual(bucketsOf([...handPlaced, ...randomSet], Date.parse(from), Date.parse(to), HOUR));
  });

  it('when interval=day and a type is given, then daily counts of that type only', async () => {
    const from = '2026-03-01';
    const to = '2026-03-16';
    const response = await get('/timeseries', { interval: 'day', type: 'user.logged_in', from, to }).expect(200);
    const expected = bucketsOf([...handPlaced, ...randomSet], Date.parse(from), Date.parse(to), DAY, 'user.logged_in');
    expect(response.body.buckets).toHaveLength(15);
    expect(response.body.buckets.slice(0, 4).map((bucket: { count: number }) => bucket.count)).toEqual([1, 0, 2, 0]);
    expect(response.body.buckets).toEqual(expected);
  });

  it('when no interval or range is given, then hourly buckets over the last 7 days', async () => {
    const response = await get('/timeseries').expect(200);
    expect(response.body.interval).toBe('hour');
    expect(response.body.buckets).toHaveLength(7 * 24 + 1);
    expect(response.body.buckets.at(-1).start).toBe('2026-03-15T12:00:00.000Z');
  });

  it('when the range holds too many buckets, then 400 too_many_buckets', async () => {
    const response = await get('/timeseries', { interval: 'hour', from: '2020-01-01', to: '2026-01-01' }).expect(400);
    expect(response.body).toMatchObject({ error: 'too_many_buckets', request_id: expect.any(String) });
  });
});
