import { makeEvent, startAnalytics, type AnalyticsHarness } from './harness';

const NOW = new Date('2026-05-10T12:00:00Z');
let h: AnalyticsHarness;
beforeAll(async () => {
  h = await startAnalytics({ now: () => NOW });
  await h.service.ingestor.ingest([
    makeEvent('user.logged_in', 'mine', '2026-05-10T10:00:00Z'),
    makeEvent('user.logged_in', 'theirs', '2026-05-10T10:05:00Z'),
  ]);
});
afterAll(async () => {
  await h?.close();
});

const api = (path: string) => `/api/v1/analytics${path}`;
const GLOBAL = ['/summary', '/events/by-type', '/timeseries', '/events'];

describe('access to the analytics API', () => {
  it.each([...GLOBAL, '/users/mine/events'])('when %s is called without a token, then 401 token_missing', async (path) => {
    const response = await h.http.get(api(path)).expect(401);
    expect(response.body).toMatchObject({ error: 'token_missing', request_id: expect.any(String) });
    expect(response.headers['www-authenticate']).toContain('Bearer');
  });

  it('when the token is signed by another key, then 401 token_invalid', async () => {
    const { startAnalytics: _unused, ...rest } = await import('./harness');
    const other = await rest.testTokens();
    const forged = `Bearer ${await other.sign('mine', 'admin')}`;
    expect((await h.http.get(api('/summary')).set('Authorization', forged).expect(401)).body.error).toBe('token_invalid');
  });

  it.each(['/summary', '/events/by-type', '/timeseries'])('when a non-admin calls %s, then 403', async (path) => {
    const response = await h.http
      .get(api(path))
      .set('Authorization', await h.userToken('mine'))
      .expect(403);
    expect(response.body.error).toBe('forbidden');
  });

  it('when a non-admin lists events without user_id or with someone else’s, then 403', async () => {
    const token = await h.userToken('mine');
    await h.http.get(api('/events')).set('Authorization', token).expect(403);
    await h.http.get(api('/events')).query({ user_id: 'theirs' }).set('Authorization', token).expect(403);
  });

  it('when a non-admin lists events with their own user_id, then only their events', async () => {
    const response = await h.http
      .get(api('/events'))
      .query({ user_id: 'mine' })
      .set('Authorization', await h.userToken('mine'))
      .expect(200);
    expect(response.body.events.map((event: { user_id: string }) => event.user_id)).toEqual(['mine']);
  });

  it('when a non-admin reads another user’s events, then 403 and nothing of theirs', async () => {
    const response = await h.http
      .get(api('/users/theirs/events'))
      .set('Authorization', await h.userToken('mine'))
      .expect(403);
    expect(response.body).toEqual({ error: 'forbidden', message: expect.any(String), request_id: expect.any(String) });
  });

  it('when a user reads their own events, or an admin anyone’s, then 200', async () => {
    const own = await h.http
      .get(api('/users/mine/events'))
      .set('Authorization', await h.userToken('mine'))
      .expect(200);
    expect(own.body.events).toHaveLength(1);
    const admin = await h.http.get(api('/users/theirs/events')).set('Authorization', h.admin).expect(200);
    expect(admin.body.events[0]).toMatchObject({ user_id: 'theirs', type: 'user.logged_in' });
  });

  it('when the OpenAPI document is fetched, then it describes every route: queries with bearer security, the tracking API with a token or none', async () => {
    const response = await h.http.get(api('/openapi.json')).expect(200);
    expect(Object.keys(response.body.paths).sort()).toEqual(
      [
        '/api/v1/analytics/app/breakdown',
        '/api/v1/analytics/app/funnel',
        '/api/v1/analytics/app/names',
        '/api/v1/analytics/app/pages',
        '/api/v1/analytics/app/referrers',
        '/api/v1/analytics/app/timeseries',
        '/api/v1/analytics/app/uniques',
        '/api/v1/analytics/sites',
        '/api/v1/analytics/sites/{id}',
        '/api/v1/analytics/events',
        '/api/v1/analytics/events/by-type',
        '/api/v1/analytics/summary',
        '/api/v1/analytics/timeseries',
        '/api/v1/analytics/users/{id}/events',
      ].sort(),
    );
    expect(response.body.paths['/api/v1/analytics/summary'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(response.body.paths['/api/v1/analytics/app/funnel'].get['x-galion-role']).toBe('admin');
    const tracking = response.body.paths['/api/v1/analytics/events'].post;
    expect(tracking.security).toEqual([{}, { bearerAuth: [] }]);
    expect(Object.keys(tracking.requestBody.content).sort()).toEqual(['application/json', 'text/plain']);
    expect(Object.keys(tracking.responses).sort()).toEqual(['202', '400', '401', '403', '408', '413', '415', '429', '503']);
    const parameters = response.body.paths['/api/v1/analytics/events'].get.parameters.map((parameter: { name: string }) => parameter.name);
    expect(parameters.sort()).toEqual(['cursor', 'from', 'limit', 'to', 'type', 'user_id']);
  });
});
