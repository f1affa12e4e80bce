import { randomUUID } from 'node:crypto';
import { startRedis, type RedisHandle } from '@galion/localdeps';
import { events, eventually, startFeed, userId, type FeedHarness } from './harness';

jest.setTimeout(60_000);

/** On a Redis of this test's own, stopped and started again. */
describe('the feed while Redis is down', () => {
  let redisServer: RedisHandle;
  let h: FeedHarness;
  beforeAll(async () => {
    redisServer = await startRedis();
    h = await startFeed({ env: { REDIS_URL: redisServer.url } });
  });
  afterAll(async () => {
    await h?.close();
    await redisServer?.stop();
  });

  it('when Redis stops, then reads answer 503 and readiness fails; when it is back, reads answer again', async () => {
    await h.apply(events.published(userId(), randomUUID()));
    await h.http.get('/api/v1/feed/global').expect(200);

    await redisServer.stop();
    const refused = await h.http.get('/api/v1/feed/global').expect(503);
    expect(refused.body.error).toBe('dependency_unavailable');
    const ready = await h.http.get('/readyz').expect(503);
    expect(ready.body.checks.redis).toMatch(/^failing/);
    await expect(h.apply(events.published(userId(), randomUUID()))).rejects.toThrow();

    // Back empty (the test Redis keeps nothing): the feed answers again, with what comes next.
    await redisServer.start();
    await eventually(async () => (await h.http.get('/readyz')).status === 200, 20_000, 'ready again');
    const post = events.published(userId(), randomUUID());
    await h.apply(post);
    const page = await h.http.get('/api/v1/feed/global').expect(200);
    expect(page.body.items.map((item: { id: string }) => item.id)).toEqual([post.id]);
  });
});
