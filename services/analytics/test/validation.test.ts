import { encodeEventCursor } from '../src/domain/event-cursor';
import { startAnalytics, type AnalyticsHarness } from './harness';

let h: AnalyticsHarness;
beforeAll(async () => {
  h = await startAnalytics();
});
afterAll(async () => {
  await h?.close();
});

const get = (path: string, query: string) => h.http.get(`/api/v1/analytics${path}?${query}`).set('Authorization', h.admin);

/** Each bad parameter, where it is sent, the error code expected, and the field named in details. */
const cases: [string, string, string, string | undefined][] = [
  ['/summary', 'from=yesterday', 'validation_failed', 'query.from'],
  ['/summary', 'to=2026-02-30', 'validation_failed', 'query.to'],
  ['/summary', 'from=2026-01-01T10:00:00', 'validation_failed', 'query.from'],
  ['/summary', 'from=2026-01-01T25:00:00Z', 'validation_failed', 'query.from'],
  ['/summary', 'from=2026-03-02&to=2026-03-01', 'invalid_range', undefined],
  ['/summary', 'from=2026-01-01&from=2026-01-02', 'validation_failed', 'query.from'],
  ['/summary', 'form=2026-01-01', 'validation_failed', 'query.form'],
  ['/events/by-type', 'to=13-01-2026', 'validation_failed', 'query.to'],
  ['/events/by-type', 'from=2026-03-02T00:00:00Z&to=2026-03-01T23:59:59Z', 'invalid_range', undefined],
  ['/timeseries', 'interval=week', 'validation_failed', 'query.interval'],
  ['/timeseries', 'interval=', 'validation_failed', 'query.interval'],
  ['/timeseries', 'type=user.teleported', 'validation_failed', 'query.type'],
  ['/timeseries', 'from=2026-03-02&to=2026-03-01', 'invalid_range', undefined],
  ['/events', 'limit=0', 'validation_failed', 'query.limit'],
  ['/events', 'limit=1001', 'validation_failed', 'query.limit'],
  ['/events', 'limit=ten', 'validation_failed', 'query.limit'],
  ['/events', 'limit=2.5', 'validation_failed', 'query.limit'],
  ['/events', 'limit=-1', 'validation_failed', 'query.limit'],
  ['/events', 'type=login', 'validation_failed', 'query.type'],
  ['/events', 'user_id=', 'validation_failed', 'query.user_id'],
  ['/events', 'from=2026-03-02&to=2026-03-01', 'invalid_range', undefined],
  ['/events', 'cursor=not-a-cursor!', 'invalid_cursor', undefined],
  ['/events', `cursor=${Buffer.from('hello').toString('base64url')}`, 'invalid_cursor', undefined],
  ['/events', `cursor=${encodeEventCursor({ time: '2026-01-01T00:00:00.000000Z', id: 'not-a-uuid' })}`, 'invalid_cursor', undefined],
  [
    '/events',
    `cursor=${encodeEventCursor({ time: '2026-13-01T00:00:00.000000Z', id: '0190a8f2-0000-7000-8000-000000000000' })}`,
    'invalid_cursor',
    undefined,
  ],
  ['/users/someone/events', 'limit=5000', 'validation_failed', 'query.limit'],
  ['/users/someone/events', 'user_id=someone', 'validation_failed', 'query.user_id'],
  [`/users/${'x'.repeat(65)}/events`, '', 'validation_failed', 'params.id'],
];

describe('query parameter validation', () => {
  it.each(cases)('when %s gets %s, then 400 %s', async (path, query, code, field) => {
    const response = await get(path, query).expect(400);
    expect(response.body).toMatchObject({ error: code, message: expect.any(String), request_id: expect.any(String) });
    if (field) expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(field);
  });

  it('when a date is bad, then the message says which formats are accepted', async () => {
    const response = await get('/summary', 'from=last-week').expect(400);
    expect(response.body.details[0].message).toMatch(/ISO-8601/);
  });

  it('when a valid cursor from a page is reused, then 200 (the cursor format round-trips)', async () => {
    const cursor = encodeEventCursor({ time: '2026-01-01T00:00:00.123456Z', id: '0190a8f2-0000-7000-8000-000000000000' });
    await get('/events', `cursor=${cursor}`).expect(200);
  });

  it('when dates are given as plain days or with offsets, then they are accepted', async () => {
    const response = await get('/summary', `from=2026-01-01&to=${encodeURIComponent('2026-01-02T01:00:00+01:00')}`).expect(200);
    expect(response.body).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' });
  });
});
