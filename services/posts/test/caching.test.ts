import { startPosts, writePost, type Caller, type PostsHarness } from './harness';

let h: PostsHarness;
let author: Caller;
beforeAll(async () => {
  h = await startPosts();
  author = await h.caller();
});
afterAll(async () => {
  await h.close();
});

describe('ETag and If-None-Match', () => {
  it('when a client sends back the ETag of a post, then 304 with no body and the same validators; once the post changes, then 200 with a new ETag', async () => {
    const post = await writePost(h, author);
    const first = await h.http.get(`/api/v1/posts/${post.id}`).expect(200);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);

    const unchanged = await h.http.get(`/api/v1/posts/${post.id}`).set('If-None-Match', etag).expect(304);
    expect(unchanged.text).toBe('');
    expect(unchanged.headers.etag).toBe(etag);
    expect(unchanged.headers['cache-control']).toBe('public, max-age=60');
    await h.http.get(`/api/v1/posts/${post.id}`).set('If-None-Match', `"other", W/${etag}`).expect(304);
    await h.http.get(`/api/v1/posts/${post.id}`).set('If-None-Match', '*').expect(304);

    await h.http.patch(`/api/v1/posts/${post.id}`).set(author.headers).send({ title: 'Changed' }).expect(200);
    const changed = await h.http.get(`/api/v1/posts/${post.id}`).set('If-None-Match', etag).expect(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.body.title).toBe('Changed');
  });

  it('when a post is written or changed, then the answer carries the ETag a read of it gives', async () => {
    const created = await h.http
      .post('/api/v1/posts')
      .set(author.headers)
      .send({ title: 'Validators', body: 'x', published: true })
      .expect(201);
    const read = await h.http.get(`/api/v1/posts/${created.body.id}`).expect(200);
    expect(read.headers.etag).toBe(created.headers.etag);
    expect(created.headers['cache-control']).toBe('private, no-store');
    const patched = await h.http.patch(`/api/v1/posts/${created.body.id}`).set(author.headers).send({ body: 'y' }).expect(200);
    await h.http.get(`/api/v1/posts/${created.body.id}`).set('If-None-Match', patched.headers.etag!).expect(304);
  });

  it('when lists, search and comments are read again unchanged, then 304; when a post is added, then 200', async () => {
    const post = await writePost(h, author, { tags: ['etags'], title: 'Cacheable words' });
    await h.http.post(`/api/v1/posts/${post.id}/comments`).set(author.headers).send({ body: 'A comment.' }).expect(201);
    const paths = [
      ['/api/v1/posts', { tag: 'etags' }],
      ['/api/v1/posts/search', { q: 'cacheable' }],
      [`/api/v1/posts/${post.id}/comments`, {}],
    ] as const;
    const etags: string[] = [];
    for (const [path, query] of paths) {
      const first = await h.http.get(path).query(query).expect(200);
      expect(first.headers['cache-control']).toBe('public, max-age=60');
      etags.push(first.headers.etag!);
      await h.http.get(path).query(query).set('If-None-Match', first.headers.etag!).expect(304);
    }
    const mine = await h.http.get('/api/v1/posts/mine').set(author.headers).expect(200);
    await h.http.get('/api/v1/posts/mine').set(author.headers).set('If-None-Match', mine.headers.etag!).expect(304);

    await writePost(h, author, { tags: ['etags'], title: 'More cacheable words' });
    await h.http.get('/api/v1/posts').query({ tag: 'etags' }).set('If-None-Match', etags[0]!).expect(200);
    await h.http.get('/api/v1/posts/search').query({ q: 'cacheable' }).set('If-None-Match', etags[1]!).expect(200);
    await h.http.get('/api/v1/posts/mine').set(author.headers).set('If-None-Match', mine.headers.etag!).expect(200);
  });
});

describe('Cache-Control', () => {
  it('when a draft is read by its author, then private, no-store; published, then public, max-age=60', async () => {
    const draft = await writePost(h, author, { published: false });
    expect((await h.http.get(`/api/v1/posts/${draft.id}`).set(author.headers).expect(200)).headers['cache-control']).toBe(
      'private, no-store',
    );
    expect((await h.http.get(`/api/v1/posts/${draft.id}/comments`).set(author.headers).expect(200)).headers['cache-control']).toBe(
      'private, no-store',
    );
    await h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: true }).expect(200);
    expect((await h.http.get(`/api/v1/posts/${draft.id}`).expect(200)).headers['cache-control']).toBe('public, max-age=60');
  });

  it('when a draft is asked for by someone else, then the 404 is not stored either', async () => {
    const draft = await writePost(h, author, { published: false });
    const hidden = await h.http.get(`/api/v1/posts/${draft.id}`).expect(404);
    expect(hidden.headers['cache-control']).toBe('private, no-store');
  });

  it('when POSTS_PUBLIC_MAX_AGE_SECONDS is set, then public reads say so', async () => {
    const short = await startPosts({ env: { POSTS_PUBLIC_MAX_AGE_SECONDS: '5' } });
    try {
      const post = await writePost(short, await short.caller());
      expect((await short.http.get(`/api/v1/posts/${post.id}`).expect(200)).headers['cache-control']).toBe('public, max-age=5');
    } finally {
      await short.close();
    }
  });
});
