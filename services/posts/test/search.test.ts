import { ConfigError } from '@galion/kit';
import { everyPage, startPosts, writePost, type PostsHarness } from './harness';

let h: PostsHarness;
const ids: Record<string, string> = {};
beforeAll(async () => {
  h = await startPosts();
  const author = await h.caller();
  const corpus = {
    inTitle: { title: 'Tuning PostgreSQL indexes', body: 'A few notes on what to measure first.' },
    inBody: { title: 'Notes from the week', body: 'We spent the week tuning PostgreSQL, mostly its planner.' },
    inBoth: { title: 'PostgreSQL at scale', body: 'Running PostgreSQL with many replicas and PostgreSQL extensions.' },
    elsewhere: { title: 'Kafka consumer groups', body: 'Partitions, offsets and rebalancing.' },
    stemmed: { title: 'Indexing strategies', body: 'How we indexed the events table.' },
  };
  for (const [name, post] of Object.entries(corpus)) ids[name] = (await writePost(h, author, { ...post, tags: ['search'] })).id;
  ids.draft = (await writePost(h, author, { title: 'PostgreSQL secrets', body: 'PostgreSQL draft.', published: false })).id;
});
afterAll(async () => {
  await h.close();
});

const search = async (q: string, query: Record<string, string | number> = {}) =>
  (
    await h.http
      .get('/api/v1/posts/search')
      .query({ q, ...query })
      .expect(200)
  ).body as {
    items: { id: string; rank: number; title: string; excerpt: string }[];
    next_cursor: string | null;
  };

describe('GET /api/v1/posts/search', () => {
  it('when a word is in a title, in a body and in both, then both ranks first, the title next, the body last; drafts and other posts never', async () => {
    const { items } = await search('postgresql');
    expect(items.map((item) => item.id)).toEqual([ids.inBoth, ids.inTitle, ids.inBody]);
    expect(items[0]!.rank).toBeGreaterThan(items[1]!.rank);
    expect(items[1]!.rank).toBeGreaterThan(items[2]!.rank);
  });

  it('when the query uses another form of a word, then English stemming finds it (index, indexes, indexed, indexing)', async () => {
    const { items } = await search('index');
    expect(items.map((item) => item.id).sort()).toEqual([ids.inTitle, ids.stemmed].sort());
  });

  it('when the query is in web-search syntax, then phrases, or and exclusions work', async () => {
    expect((await search('"consumer groups"')).items.map((item) => item.id)).toEqual([ids.elsewhere]);
    expect((await search('"groups consumer"')).items).toEqual([]);
    expect((await search('kafka or planner')).items.map((item) => item.id).sort()).toEqual([ids.elsewhere, ids.inBody].sort());
    expect((await search('postgresql -replicas')).items.map((item) => item.id)).toEqual([ids.inTitle, ids.inBody]);
  });

  it('when the query holds only stop words or punctuation, then nothing is found, and it is not an error', async () => {
    expect((await search('the and of')).items).toEqual([]);
    expect((await search('!!! & | :*')).items).toEqual([]);
  });

  it('when paging one hit at a time, then every hit comes once, in rank order; the cursor of another query is refused', async () => {
    const all = (await search('postgresql')).items.map((item) => item.id);
    expect(await everyPage(h, '/api/v1/posts/search', { q: 'postgresql', limit: 1 })).toEqual(all);
    const first = await search('postgresql', { limit: 1 });
    const other = await h.http.get('/api/v1/posts/search').query({ q: 'kafka', cursor: first.next_cursor }).expect(400);
    expect(other.body.error).toBe('invalid_cursor');
  });

  it('when posts have the same rank, then they are ordered by id and paged without gaps', async () => {
    const author = await h.caller();
    const twins = [];
    for (let i = 0; i < 5; i += 1) twins.push((await writePost(h, author, { title: 'Identical twins', body: 'Same words.' })).id);
    expect(await everyPage(h, '/api/v1/posts/search', { q: 'identical twins', limit: 2 })).toEqual([...twins].reverse());
  });

  it('when a post is edited or unpublished, then search follows at once', async () => {
    const author = await h.caller();
    const post = await writePost(h, author, { title: 'Ephemeral words', body: 'zanzibar' });
    expect((await search('zanzibar')).items.map((item) => item.id)).toEqual([post.id]);
    await h.http.patch(`/api/v1/posts/${post.id}`).set(author.headers).send({ body: 'madagascar' }).expect(200);
    expect((await search('zanzibar')).items).toEqual([]);
    expect((await search('madagascar')).items.map((item) => item.id)).toEqual([post.id]);
    await h.http.patch(`/api/v1/posts/${post.id}`).set(author.headers).send({ published: false }).expect(200);
    expect((await search('madagascar')).items).toEqual([]);
  });

  it.each([
    [{}, 'query.q'],
    [{ q: '' }, 'query.q'],
    [{ q: '   ' }, 'query.q'],
    [{ q: 'x'.repeat(201) }, 'query.q'],
    [{ q: 'postgresql', limit: '51' }, 'query.limit'],
    [{ q: 'postgresql', sort: 'date' }, 'query.sort'],
  ])('when the query is %j, then 400 naming %s', async (query, path) => {
    const response = await h.http.get('/api/v1/posts/search').query(query).expect(400);
    expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('when a cursor is forged, then 400 invalid_cursor', async () => {
    const response = await h.http.get('/api/v1/posts/search').query({ q: 'postgresql', cursor: 'eyJ2IjoxfQ' }).expect(400);
    expect(response.body.error).toBe('invalid_cursor');
  });
});

describe('POSTS_SEARCH_RANKED_MATCHES', () => {
  it('when more posts match than it ranks, then the newest are ranked and found, and an older match is not, however well it ranks', async () => {
    const bounded = await startPosts({ env: { POSTS_SEARCH_RANKED_MATCHES: '100' } });
    try {
      const author = await bounded.caller();
      const oldest = await writePost(bounded, author, { title: 'Needle needle needle', body: 'needle in the title, thrice' });
      const newer: string[] = [];
      for (let i = 0; i < 100; i += 1) newer.push((await writePost(bounded, author, { title: `Haystack ${i}`, body: 'a needle in the body' })).id);

      const found = await everyPage(bounded, '/api/v1/posts/search', { q: 'needle', limit: 50 });

      expect(found).toHaveLength(100);
      expect(new Set(found)).toEqual(new Set(newer));
      expect(found).not.toContain(oldest.id);
    } finally {
      await bounded.close();
    }
  }, 60_000);
});

describe('POSTS_SEARCH_LANGUAGE', () => {
  it('when it names no text search configuration of the database, then the service refuses to start, naming the setting', async () => {
    await expect(startPosts({ env: { POSTS_SEARCH_LANGUAGE: 'klingon' } })).rejects.toThrow(ConfigError);
    await expect(startPosts({ env: { POSTS_SEARCH_LANGUAGE: 'klingon' } })).rejects.toThrow(/POSTS_SEARCH_LANGUAGE: "klingon".*english/);
  });

  it('when it is simple, then words are matched as written, without stemming', async () => {
    const simple = await startPosts({ env: { POSTS_SEARCH_LANGUAGE: 'simple' } });
    try {
      const author = await simple.caller();
      const post = await writePost(simple, author, { title: 'Indexing', body: 'indexes' });
      const find = async (q: string) =>
        (await simple.http.get('/api/v1/posts/search').query({ q }).expect(200)).body.items.map((item: { id: string }) => item.id);
      expect(await find('index')).toEqual([]);
      expect(await find('indexing')).toEqual([post.id]);
    } finally {
      await simple.close();
    }
  });
});
