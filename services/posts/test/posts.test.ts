import { NO_SUCH_ID, outboxEvents, startPosts, writePost, type Caller, type PostsHarness } from './harness';

let h: PostsHarness;
let author: Caller;
let other: Caller;
let admin: Caller;
beforeAll(async () => {
  h = await startPosts();
  [author, other, admin] = [await h.caller(), await h.caller(), await h.caller('admin')];
});
afterAll(async () => {
  await h.close();
});

const detailPaths = (body: { details?: { path: string }[] }) => (body.details ?? []).map((detail) => detail.path);

describe('POST /api/v1/posts', () => {
  it('when a user writes a published post, then it is theirs, published now, and post.created and post.published are written once each', async () => {
    const response = await h.http
      .post('/api/v1/posts')
      .set(author.headers)
      .send({ title: '  Hello world  ', body: 'First post.', tags: ['intro', 'hello-world'], published: true })
      .expect(201);

    expect(response.body).toMatchObject({
      author_id: author.id,
      title: 'Hello world',
      body: 'First post.',
      tags: ['intro', 'hello-world'],
      published: true,
    });
    expect(Date.parse(response.body.published_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(response.headers.location).toBe(`/api/v1/posts/${response.body.id}`);
    expect(response.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(await outboxEvents(h, { postId: response.body.id })).toEqual([
      {
        type: 'post.created',
        subject: author.id,
        data: { post_id: response.body.id, title: 'Hello world', published: true, tags: ['intro', 'hello-world'] },
      },
      {
        type: 'post.published',
        subject: author.id,
        data: { post_id: response.body.id, title: 'Hello world', tags: ['intro', 'hello-world'] },
      },
    ]);
  });

  it('when a user writes a draft, then it has no published_at and only post.created is written', async () => {
    const response = await h.http.post('/api/v1/posts').set(author.headers).send({ title: 'Draft', body: 'Not yet.' }).expect(201);
    expect(response.body).toMatchObject({ published: false, published_at: null, tags: [] });
    expect((await outboxEvents(h, { postId: response.body.id })).map((event) => event.type)).toEqual(['post.created']);
  });

  it('when the longest post is sent (500-character title, 100,000-character body, 10 tags of 32), then it is accepted', async () => {
    const tags = Array.from({ length: 10 }, (_, i) => `${'t'.repeat(31)}${i}`);
    const response = await h.http
      .post('/api/v1/posts')
      .set(author.headers)
      .send({ title: 'é'.repeat(500), body: '😀'.repeat(100_000), tags })
      .expect(201);
    expect([...response.body.body]).toHaveLength(100_000);
  });

  it.each([
    ['no title', { body: 'x' }, 'body.title'],
    ['an empty title', { title: '', body: 'x' }, 'body.title'],
    ['a blank title', { title: '   ', body: 'x' }, 'body.title'],
    ['a title of 501 characters', { title: 'x'.repeat(501), body: 'x' }, 'body.title'],
    ['no body', { title: 'x' }, 'body.body'],
    ['a body of 100,001 characters', { title: 'x', body: 'x'.repeat(100_001) }, 'body.body'],
    ['a NUL in the body', { title: 'x', body: 'a\u0000b' }, 'body.body'],
    ['eleven tags', { title: 'x', body: 'x', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'body.tags'],
    ['a tag in capitals', { title: 'x', body: 'x', tags: ['Hello'] }, 'body.tags.0'],
    ['a tag of 33 characters', { title: 'x', body: 'x', tags: ['x'.repeat(33)] }, 'body.tags.0'],
    ['a repeated tag', { title: 'x', body: 'x', tags: ['a', 'a'] }, 'body.tags'],
    ['tags that are not a list', { title: 'x', body: 'x', tags: 'a,b' }, 'body.tags'],
    ['published as a string', { title: 'x', body: 'x', published: 'yes' }, 'body.published'],
    ['an author of its own', { title: 'x', body: 'x', author_id: NO_SUCH_ID }, 'body.author_id'],
  ])('when the post has %s, then 400 naming the field and nothing is written', async (_case, body, path) => {
    const before = Number((await h.db('posts').count({ n: '*' }).first())!.n);
    const response = await h.http.post('/api/v1/posts').set(author.headers).send(body).expect(400);
    expect(response.body.error).toBe('validation_failed');
    expect(detailPaths(response.body)).toContain(path);
    expect(Number((await h.db('posts').count({ n: '*' }).first())!.n)).toBe(before);
  });

  it('when the body is not JSON, then 415; when it is malformed JSON, then 400 malformed_json', async () => {
    await h.http.post('/api/v1/posts').set(author.headers).set('Content-Type', 'text/plain').send('title=x').expect(415);
    const malformed = await h.http
      .post('/api/v1/posts')
      .set(author.headers)
      .set('Content-Type', 'application/json')
      .send('{"title":')
      .expect(400);
    expect(malformed.body.error).toBe('malformed_json');
  });

  it('when there is no token, or a bad one, then 401', async () => {
    expect((await h.http.post('/api/v1/posts').send({ title: 'x', body: 'x' }).expect(401)).body.error).toBe('token_missing');
    expect(
      (await h.http.post('/api/v1/posts').set('Authorization', 'Bearer nonsense').send({ title: 'x', body: 'x' }).expect(401)).body.error,
    ).toBe('token_invalid');
  });
});

describe('GET /api/v1/posts/{id}', () => {
  it('when the post is published, then anyone reads it, anonymous callers too', async () => {
    const post = await writePost(h, author);
    for (const caller of [author, other, admin]) await h.http.get(`/api/v1/posts/${post.id}`).set(caller.headers).expect(200);
    expect((await h.http.get(`/api/v1/posts/${post.id}`).expect(200)).body).toMatchObject({ id: post.id, body: 'Some text.' });
  });

  it('when the post is a draft, then its author and admins read it, and to others and anonymous callers it is 404, never 403', async () => {
    const draft = await writePost(h, author, { published: false });
    await h.http.get(`/api/v1/posts/${draft.id}`).set(author.headers).expect(200);
    await h.http.get(`/api/v1/posts/${draft.id}`).set(admin.headers).expect(200);
    expect((await h.http.get(`/api/v1/posts/${draft.id}`).set(other.headers).expect(404)).body.error).toBe('post_not_found');
    expect((await h.http.get(`/api/v1/posts/${draft.id}`).expect(404)).body.error).toBe('post_not_found');
  });

  it('when the id is not a UUID, then 400; when no post has it, then 404; when the token sent is bad, then 401, not an anonymous read', async () => {
    expect(detailPaths((await h.http.get('/api/v1/posts/12345').expect(400)).body)).toEqual(['params.id']);
    await h.http.get(`/api/v1/posts/${NO_SUCH_ID}`).expect(404);
    const post = await writePost(h, author);
    await h.http.get(`/api/v1/posts/${post.id}`).set('Authorization', 'Bearer nonsense').expect(401);
  });
});

describe('PATCH /api/v1/posts/{id}', () => {
  it('when the author publishes a draft, then published_at is set, and post.updated and post.published are written once', async () => {
    const draft = await writePost(h, author, { published: false, title: 'Soon' });
    const published = await h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: true }).expect(200);
    expect(published.body.published).toBe(true);
    expect(published.body.published_at).not.toBeNull();

    // Back to draft and published again: published_at stays the first one, and no second post.published.
    await h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: false }).expect(200);
    const again = await h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: true }).expect(200);
    expect(again.body.published_at).toBe(published.body.published_at);

    expect((await outboxEvents(h, { postId: draft.id })).map((event) => [event.type, event.data.changes ?? null])).toEqual([
      ['post.created', null],
      ['post.updated', ['published']],
      ['post.published', null],
      ['post.updated', ['published']],
      ['post.updated', ['published']],
    ]);
  });

  it('when the author changes the title, body and tags, then they are saved and one post.updated names them', async () => {
    const post = await writePost(h, author, { tags: ['a'] });
    const updated = await h.http
      .patch(`/api/v1/posts/${post.id}`)
      .set(author.headers)
      .send({ title: 'New title', body: 'New body.', tags: ['b', 'c'] })
      .expect(200);
    expect(updated.body).toMatchObject({ title: 'New title', body: 'New body.', tags: ['b', 'c'] });
    expect(Date.parse(updated.body.updated_at)).toBeGreaterThan(Date.parse(updated.body.created_at));
    const events = await outboxEvents(h, { postId: post.id });
    expect(events.slice(2)).toEqual([
      { type: 'post.updated', subject: author.id, data: { post_id: post.id, changes: ['title', 'body', 'tags'], published: true } },
    ]);
  });

  it('when a patch changes nothing, then the post is answered as it is and no event is written', async () => {
    const post = await writePost(h, author);
    await h.http.patch(`/api/v1/posts/${post.id}`).set(author.headers).send({ title: post.title, published: true }).expect(200);
    expect((await outboxEvents(h, { postId: post.id })).map((event) => event.type)).toEqual(['post.created', 'post.published']);
  });

  it('when an admin changes someone’s post, then it is changed and the event’s subject is still the author', async () => {
    const post = await writePost(h, author);
    await h.http.patch(`/api/v1/posts/${post.id}`).set(admin.headers).send({ title: 'Moderated' }).expect(200);
    const events = await outboxEvents(h, { postId: post.id });
    expect(events.at(-1)).toMatchObject({ type: 'post.updated', subject: author.id });
  });

  it('when another user changes a published post, then 403; a draft of someone else, then 404; nothing changes', async () => {
    const post = await writePost(h, author);
    const draft = await writePost(h, author, { published: false });
    expect((await h.http.patch(`/api/v1/posts/${post.id}`).set(other.headers).send({ title: 'Mine now' }).expect(403)).body.error).toBe(
      'forbidden',
    );
    expect((await h.http.patch(`/api/v1/posts/${draft.id}`).set(other.headers).send({ title: 'Mine now' }).expect(404)).body.error).toBe(
      'post_not_found',
    );
    expect((await h.db('posts').whereIn('id', [post.id, draft.id])).map((row) => row.title)).toEqual(['A title', 'A title']);
  });

  it.each([
    ['an empty patch', {}, undefined],
    ['a blank title', { title: ' ' }, 'body.title'],
    ['an unknown field', { author_id: NO_SUCH_ID }, 'body.author_id'],
    ['a bad tag', { tags: ['no spaces'] }, 'body.tags.0'],
  ])('when the patch is %s, then 400', async (_case, body, path) => {
    const post = await writePost(h, author);
    const response = await h.http.patch(`/api/v1/posts/${post.id}`).set(author.headers).send(body).expect(400);
    if (path) expect(detailPaths(response.body)).toContain(path);
  });

  it('when anonymous, then 401; when the post does not exist, then 404', async () => {
    const post = await writePost(h, author);
    await h.http.patch(`/api/v1/posts/${post.id}`).send({ title: 'x' }).expect(401);
    await h.http.patch(`/api/v1/posts/${NO_SUCH_ID}`).set(author.headers).send({ title: 'x' }).expect(404);
  });

  it('when two publishes of a draft race, then post.published is written once', async () => {
    const draft = await writePost(h, author, { published: false });
    await Promise.all(
      Array.from({ length: 5 }, () => h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: true }).expect(200)),
    );
    const types = (await outboxEvents(h, { postId: draft.id })).map((event) => event.type);
    expect(types.filter((type) => type === 'post.published')).toHaveLength(1);
    expect(types.filter((type) => type === 'post.updated')).toHaveLength(1);
  });
});

describe('DELETE /api/v1/posts/{id}', () => {
  it('when the author deletes a post, then it is gone and one post.deleted is written', async () => {
    const post = await writePost(h, author);
    await h.http.delete(`/api/v1/posts/${post.id}`).set(author.headers).expect(204);
    await h.http.get(`/api/v1/posts/${post.id}`).set(author.headers).expect(404);
    expect((await outboxEvents(h, { postId: post.id })).at(-1)).toEqual({
      type: 'post.deleted',
      subject: author.id,
      data: { post_id: post.id },
    });
    await h.http.delete(`/api/v1/posts/${post.id}`).set(author.headers).expect(404);
  });

  it('when an admin deletes it, then the event names the admin as deleted_by', async () => {
    const post = await writePost(h, author, { published: false });
    await h.http.delete(`/api/v1/posts/${post.id}`).set(admin.headers).expect(204);
    expect((await outboxEvents(h, { postId: post.id })).at(-1)).toEqual({
      type: 'post.deleted',
      subject: author.id,
      data: { post_id: post.id, deleted_by: admin.id },
    });
  });

  it('when another user deletes a published post, then 403; a draft, then 404; anonymous, then 401', async () => {
    const post = await writePost(h, author);
    const draft = await writePost(h, author, { published: false });
    await h.http.delete(`/api/v1/posts/${post.id}`).set(other.headers).expect(403);
    await h.http.delete(`/api/v1/posts/${draft.id}`).set(other.headers).expect(404);
    await h.http.delete(`/api/v1/posts/${post.id}`).expect(401);
    expect(await h.db('posts').whereIn('id', [post.id, draft.id])).toHaveLength(2);
  });
});

describe('the document', () => {
  it('when the OpenAPI document is read, then every route is there with its access and its 304s', async () => {
    const document = (await h.http.get('/api/v1/posts/openapi.json').expect(200)).body;
    expect(Object.keys(document.paths).sort()).toEqual([
      '/api/v1/posts',
      '/api/v1/posts/mine',
      '/api/v1/posts/search',
      '/api/v1/posts/{id}',
      '/api/v1/posts/{id}/comments',
      '/api/v1/posts/{id}/comments/{commentId}',
    ]);
    expect(document.paths['/api/v1/posts/{id}'].get.security).toEqual([{}, { bearerAuth: [] }]);
    expect(document.paths['/api/v1/posts/{id}'].patch.security).toEqual([{ bearerAuth: [] }]);
    for (const path of ['/api/v1/posts', '/api/v1/posts/mine', '/api/v1/posts/search', '/api/v1/posts/{id}', '/api/v1/posts/{id}/comments'])
      expect({ path, statuses: Object.keys(document.paths[path].get.responses) }).toEqual({
        path,
        statuses: expect.arrayContaining(['200', '304']),
      });
  });
});
