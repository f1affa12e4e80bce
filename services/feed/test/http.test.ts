import { randomUUID } from 'node:crypto';
import { feedGatewayRoutes } from '../src/app';
import { events, startFeed, userId, type FeedHarness } from './harness';

describe('the feed API', () => {
  let h: FeedHarness;
  beforeAll(async () => {
    h = await startFeed();
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a user reads their home feed with a token, then it answers pages of entries; without a token, 401', async () => {
    const [reader, author, commenter] = [userId(), userId(), userId()];
    const post = events.published(author, randomUUID(), undefined, 'Hello');
    const comment = events.commented(commenter, post.data.post_id, reader);
    await h.apply(events.followed(reader, author), post, comment);

    const first = await h.http
      .get('/api/v1/feed/home?limit=1')
      .set('Authorization', await h.bearer(reader))
      .expect(200);
    expect(first.body.items).toEqual([
      {
        id: comment.id,
        kind: 'comment',
        actor_id: commenter,
        post_id: post.data.post_id,
        title: null,
        tags: [],
        comment_id: comment.data.comment_id,
        post_author_id: reader,
        time: new Date(comment.time).toISOString(),
      },
    ]);
    const second = await h.http
      .get(`/api/v1/feed/home?limit=1&cursor=${first.body.next_cursor}`)
      .set('Authorization', await h.bearer(reader))
      .expect(200);
    expect(second.body).toEqual({
      items: [
        {
          id: post.id,
          kind: 'post',
          actor_id: author,
          post_id: post.data.post_id,
          title: 'Hello',
          tags: ['news'],
          comment_id: null,
          post_author_id: null,
          time: new Date(post.time).toISOString(),
        },
      ],
      next_cursor: null,
    });

    const anonymous = await h.http.get('/api/v1/feed/home').expect(401);
    expect(anonymous.body.error).toBe('token_missing');
  });

  it('when anyone reads the global feed, then it answers without a token', async () => {
    const post = events.published(userId(), randomUUID());
    await h.apply(post);
    const page = await h.http.get('/api/v1/feed/global?limit=5').expect(200);
    expect(page.body.items[0].id).toBe(post.id);
  });

  it('when a page is asked with a bad limit, an unknown parameter or a cursor it did not give out, then 400', async () => {
    const bearer = await h.bearer(userId());
    expect((await h.http.get('/api/v1/feed/home?limit=0').set('Authorization', bearer).expect(400)).body.error).toBe('validation_failed');
    expect((await h.http.get('/api/v1/feed/global?limit=101').expect(400)).body.error).toBe('validation_failed');
    expect((await h.http.get('/api/v1/feed/global?since=1').expect(400)).body.error).toBe('validation_failed');
    expect((await h.http.get('/api/v1/feed/global?cursor=abc').expect(400)).body.error).toBe('invalid_cursor');

    await h.apply(...Array.from({ length: 2 }, () => events.published(userId(), randomUUID())));
    const global = await h.http.get('/api/v1/feed/global?limit=1').expect(200);
    const refused = await h.http.get(`/api/v1/feed/home?cursor=${global.body.next_cursor}`).set('Authorization', bearer).expect(400);
    expect(refused.body.error).toBe('invalid_cursor');
  });

  it('when the routes are declared, then /global is public (per-address limit) and /home needs a token, in the document and for the gateway', async () => {
    expect(feedGatewayRoutes()).toEqual([
      { method: 'GET', path: '/api/v1/feed/home' },
      { method: 'GET', path: '/api/v1/feed/global', policy: 'ip' },
    ]);
    const document = (await h.http.get('/api/v1/feed/openapi.json').expect(200)).body;
    expect(document.paths['/api/v1/feed/home'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/api/v1/feed/global'].get.security).toBeUndefined();
    expect(Object.keys(document.paths['/api/v1/feed/home'].get.responses).sort()).toEqual(['200', '400', '401', '408', '503']);
  });

  it('when readiness is asked, then it checks Redis', async () => {
    const ready = await h.http.get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ redis: 'ok' });
  });
});
