import { EVENT_TYPES, type EventEnvelope } from '@galion/events';
import { makeEvent, seededRandom, startAnalytics, type AnalyticsHarness } from './harness';

/** Every type but user.deleted, which erases its user's events from the store (docs/analytics.md: Erasure). */
const KEPT_TYPES = EVENT_TYPES.filter((type) => type !== 'user.deleted');

const NOW = new Date('2026-06-20T08:00:00.000Z');
const users = ['u-ann', 'u-ben', 'u-cat', 'u-dan'];

/** Microseconds since the epoch of an ISO time, keeping digits past the millisecond. */
const micros = (time: string): bigint => {
  const fraction = /\.(\d+)Z$/.exec(time)?.[1] ?? '';
  return BigInt(Date.parse(time)) * 1000n + BigInt((fraction.slice(3) + '000').slice(0, 3));
};

/** Newest first; ties in time broken by id, newest (greatest) first, as the API orders them. */
const newestFirst = (events: EventEnvelope[]) =>
  [...events].sort((a, b) => {
    const byTime = micros(b.time) - micros(a.time);
    if (byTime !== 0n) return byTime > 0n ? 1 : -1;
    return b.id < a.id ? -1 : b.id > a.id ? 1 : 0;
  });

// 320 events over 3 days; many share a timestamp (ties), some carry microseconds.
const random = seededRandom(42);
const dataSet: EventEnvelope[] = [];
for (let i = 0; i < 320; i += 1) {
  const base = Date.parse('2026-06-17T00:00:00Z') + Math.floor(random() * 3 * 86_400_000);
  const tied = i % 5 === 0 && dataSet.length > 0 ? dataSet.at(-1)!.time : new Date(base).toISOString();
  const time = i % 11 === 0 ? new Date(base).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`) : tied;
  dataSet.push(makeEvent(KEPT_TYPES[i % KEPT_TYPES.length]!, users[Math.floor(random() * users.length)]!, time));
}

// A burst within one millisecond, told apart only by microseconds (and ties on those): pages must split it exactly.
for (let i = 0; i < 12; i += 1) {
  dataSet.push(makeEvent('user.logged_in', users[i % users.length]!, `2026-06-18T12:00:00.500${String(100 + (i % 6) * 7)}Z`));
}

let h: AnalyticsHarness;
beforeAll(async () => {
  h = await startAnalytics({ now: () => NOW });
  await h.service.ingestor.ingest(dataSet);
});
afterAll(async () => {
  await h?.close();
});

/** Follows next_cursor from the first page to the last; returns the ids in the order received. */
const pageThrough = async (path: string, query: Record<string, string>, authorization: string) => {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await h.http
      .get(`/api/v1/analytics${path}`)
      .query({ ...query, ...(cursor ? { cursor } : {}) })
      .set('Authorization', authorization)
      .expect(200);
    expect(response.body.events.length).toBeLessThanOrEqual(Number(query.limit));
    ids.push(...response.body.events.map((event: { id: string }) => event.id));
    cursor = response.body.next_cursor ?? undefined;
    pages += 1;
    expect(pages).toBeLessThan(500);
  } while (cursor);
  return { ids, pages };
};

describe('GET /events', () => {
  it('when paging through every event 7 at a time, then each appears once, newest first, with nothing missing', async () => {
    const { ids, pages } = await pageThrough('/events', { limit: '7' }, h.admin);
    const expected = newestFirst(dataSet).map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
    expect(pages).toBe(Math.ceil(dataSet.length / 7));
  });

  it('when filtered by type, user and time, then the pages hold exactly the matching events', async () => {
    const from = '2026-06-17T12:00:00Z';
    const to = '2026-06-19T06:30:00Z';
    const matches = dataSet.filter(
      (event) =>
        event.type === 'user.logged_in' &&
        event.subject === 'u-ben' &&
        micros(event.time) >= micros('2026-06-17T12:00:00.000Z') &&
        micros(event.time) < micros('2026-06-19T06:30:00.000Z'),
    );
    expect(matches.length).toBeGreaterThan(2);
    const { ids } = await pageThrough('/events', { limit: '2', type: 'user.logged_in', user_id: 'u-ben', from, to }, h.admin);
    expect(ids).toEqual(newestFirst(matches).map((event) => event.id));
  });

  it('when an event is returned, then it carries its envelope fields', async () => {
    const response = await h.http.get('/api/v1/analytics/events').query({ limit: '1' }).set('Authorization', h.admin).expect(200);
    const newest = newestFirst(dataSet)[0]!;
    expect(response.body.events[0]).toEqual({
      id: newest.id,
      type: newest.type,
      user_id: newest.subject,
      source: 'test',
      version: 1,
      time: new Date(Date.parse(newest.time)).toISOString(),
      received_at: expect.any(String),
      data: newest.data,
    });
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('when newer events arrive between two pages, then the next page continues where the last one ended', async () => {
    const first = await h.http.get('/api/v1/analytics/events').query({ limit: '50' }).set('Authorization', h.admin).expect(200);
    await h.service.ingestor.ingest([makeEvent('user.logged_in', 'u-ann', '2026-06-20T07:59:00Z')]);
    const second = await h.http
      .get('/api/v1/analytics/events')
      .query({ limit: '50', cursor: first.body.next_cursor })
      .set('Authorization', h.admin)
      .expect(200);
    const expected = newestFirst(dataSet).map((event) => event.id);
    expect([...first.body.events, ...second.body.events].map((event: { id: string }) => event.id)).toEqual(expected.slice(0, 100));
  });

  it('when no limit is given, then a page holds 100 events; the largest page is 1000', async () => {
    const byDefault = await h.http.get('/api/v1/analytics/events').set('Authorization', h.admin).expect(200);
    expect(byDefault.body.events).toHaveLength(100);
    const largest = await h.http.get('/api/v1/analytics/events').query({ limit: '1000' }).set('Authorization', h.admin).expect(200);
    // The data set plus the one event the test above added.
    expect(largest.body.events.length).toBe(dataSet.length + 1);
    expect(largest.body.next_cursor).toBeNull();
  });
});

describe('GET /users/{id}/events', () => {
  it('when a user pages through their own events, then they get all of theirs and no one else’s', async () => {
    const token = await h.userToken('u-cat');
    const { ids } = await pageThrough('/users/u-cat/events', { limit: '5' }, token);
    const expected = newestFirst(dataSet.filter((event) => event.subject === 'u-cat')).map((event) => event.id);
    expect(expected.length).toBeGreaterThan(40);
    expect(ids).toEqual(expected);
  });

  it('when an admin reads a user’s events with a type filter, then only that user’s events of that type', async () => {
    const response = await h.http
      .get('/api/v1/analytics/users/u-dan/events')
      .query({ type: 'user.updated', limit: '1000' })
      .set('Authorization', h.admin)
      .expect(200);
    const expected = newestFirst(dataSet.filter((event) => event.subject === 'u-dan' && event.type === 'user.updated'));
    expect(response.body.events.map((event: { id: string }) => event.id)).toEqual(expected.map((event) => event.id));
  });
});
