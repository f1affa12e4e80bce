import { everyPage, startPosts, writePost, type Caller, type PostsHarness } from './harness';

let h: PostsHarness;
beforeAll(async () => {
  h = await startPosts();
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/posts', () => {
  it('when posts are published, then the list shows them newest first by first publication, drafts left out, with excerpts', async () => {
    const author = await h.caller();
    const first = await writePost(h, author, { title: 'first', tags: ['order-test'] });
    const draft = await writePost(h, author, { published: false, tags: ['order-test'] });
    const second = await writePost(h, author, { title: 'second', tags: ['order-test'], body: 'x'.repeat(1_000) });
    // Published after the others: comes first, though written before the second.
    await h.http.patch(`/api/v1/posts/${draft.id}`).set(author.headers).send({ published: true }).expect(200);

    const page = await h.http.get('/api/v1/posts').query({ tag: 'order-test' }).expect(200);
    expect(page.body.items.map((item: { id: string }) => item.id)).toEqual([draft.id, second.id, first.id]);
    expect(page.body.items[1].excerpt).toBe('x'.repeat(280));
    expect(page.body.items[1]).not.toHaveProperty('body');
    expect(page.body.next_cursor).toBeNull();
  });

  it('when filtered by author or tag, then only their posts or posts with the tag come back', async () => {
    const [ada, bob] = [await h.caller(), await h.caller()];
    const adaPost = await writePost(h, ada, { tags: ['filters', 'ada'] });
    const bobPost = await writePost(h, bob, { tags: ['filters'] });
    await writePost(h, ada, { tags: ['filters'], published: false });

    const byAda = await h.http.get('/api/v1/posts').query({ author: ada.id }).expect(200);
    expect(byAda.body.items.map((item: { id: string }) => item.id)).toEqual([adaPost.id]);
    const tagged = await h.http.get('/api/v1/posts').query({ tag: 'filters' }).expect(200);
    expect(tagged.body.items.map((item: { id: string }) => item.id)).toEqual([bobPost.id, adaPost.id]);
    const both = await h.http.get('/api/v1/posts').query({ tag: 'ada', author: bob.id }).expect(200);
    expect(both.body.items).toEqual([]);
  });

  it('when a draft’s author asks for the public list, then their draft is still not in it', async () => {
    const author = await h.caller();
    await writePost(h, author, { published: false });
    const page = await h.http.get('/api/v1/posts').query({ author: author.id }).set(author.headers).expect(200);
    expect(page.body.items).toEqual([]);
  });

  it('when paging with a small limit, then every post appears exactly once, in order', async () => {
    const author = await h.caller();
    const written = [];
    for (let i = 0; i < 17; i += 1) written.push((await writePost(h, author, { tags: ['pager'] })).id);
    const seen = await everyPage(h, '/api/v1/posts', { tag: 'pager', limit: 4 });
    expect(seen).toEqual([...written].reverse());
  });

  it('when posts are written while a reader pages through, then no post that was there is missed or repeated', async () => {
    const author = await h.caller();
    const before: string[] = [];
    for (let i = 0; i < 30; i += 1) before.push((await writePost(h, author, { tags: ['concurrent'] })).id);
    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      while (writing) during.push((await writePost(h, author, { tags: ['concurrent'] })).id);
    })();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await h.http
        .get('/api/v1/posts')
        .query({ tag: 'concurrent', limit: 3, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.next_cursor;
      // Let the writer in between the pages.
      await new Promise((resolve) => setTimeout(resolve, 5));
    } while (cursor);
    writing = false;
    await writer;

    expect(during.length).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => before.includes(id))).toEqual([...before].reverse());
  });

  it.each([
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: 'ten' }, 'query.limit'],
    [{ author: 'ada' }, 'query.author'],
    [{ tag: 'Not A Slug' }, 'query.tag'],
    [{ colour: 'blue' }, 'query.colour'],
  ])('when the query is %j, then 400 naming %s', async (query, path) => {
    const response = await h.http.get('/api/v1/posts').query(query).expect(400);
    expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('when the cursor is forged, or one of another list, then 400 invalid_cursor', async () => {
    expect((await h.http.get('/api/v1/posts').query({ cursor: 'bm90LWEtY3Vyc29y' }).expect(400)).body.error).toBe('invalid_cursor');
    const author = await h.caller();
    await writePost(h, author);
    await writePost(h, author);
    const mine = await h.http.get('/api/v1/posts/mine').query({ limit: 1 }).set(author.headers).expect(200);
    expect((await h.http.get('/api/v1/posts').query({ cursor: mine.body.next_cursor }).expect(400)).body.error).toBe('invalid_cursor');
  });
});

describe('GET /api/v1/posts/mine', () => {
  let author: Caller;
  beforeAll(async () => {
    author = await h.caller();
  });

  it('when an author has drafts and published posts, then they see all of theirs, newest first, and no one else’s', async () => {
    const published = await writePost(h, author);
    const draft = await writePost(h, author, { published: false });
    await writePost(h, await h.caller());
    const page = await h.http.get('/api/v1/posts/mine').set(author.headers).expect(200);
    expect(page.body.items.map((item: { id: string; published: boolean }) => [item.id, item.published])).toEqual([
      [draft.id, false],
      [published.id, true],
    ]);
    expect(page.headers['cache-control']).toBe('private, no-store');
  });

  it('when paging through many, then each appears once', async () => {
    const writer = await h.caller();
    const written = [];
    for (let i = 0; i < 9; i += 1) written.push((await writePost(h, writer, { published: i % 2 === 0 })).id);
    expect(await everyPage(h, '/api/v1/posts/mine', { limit: 2 }, writer)).toEqual([...written].reverse());
  });

  it('when anonymous, then 401; with a bad limit, then 400', async () => {
    expect((await h.http.get('/api/v1/posts/mine').expect(401)).body.error).toBe('token_missing');
    await h.http.get('/api/v1/posts/mine').query({ limit: 500 }).set(author.headers).expect(400);
  });
});
