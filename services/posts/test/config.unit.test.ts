import { ConfigError } from '@galion/kit';
import { loadPostsConfig } from '../src/config';
import { CreatePostRequest, ListQuery, UpdatePostRequest } from '../src/schemas';

describe('the posts configuration', () => {
  it('when nothing is set, then search is in English over the newest 1,000 matches, public reads are cached 60 s and the consumer group is posts', () => {
    const config = loadPostsConfig({ DATABASE_URL: 'postgres://localhost/posts' });
    expect(config).toMatchObject({
      port: 8084,
      searchLanguage: 'english',
      searchRankedMatches: 1_000,
      publicMaxAgeSeconds: 60,
      consumerGroup: 'posts',
    });
  });

  it.each([['99'], ['100001'], ['1e3']])('when POSTS_SEARCH_RANKED_MATCHES is %j, then it is refused, naming it', (value) => {
    expect(() => loadPostsConfig({ DATABASE_URL: 'postgres://localhost/posts', POSTS_SEARCH_RANKED_MATCHES: value })).toThrow(
      /POSTS_SEARCH_RANKED_MATCHES/,
    );
  });

  it('when AUTH_URL is set, then the JWKS is fetched from auth', () => {
    const config = loadPostsConfig({ DATABASE_URL: 'postgres://localhost/posts', AUTH_URL: 'http://auth:8081/' });
    expect(config.verifier.jwksUrl).toBe('http://auth:8081/api/v1/auth/.well-known/jwks.json');
  });

  it.each([['English'], ['english; drop'], ['']])(
    'when POSTS_SEARCH_LANGUAGE is %j, then it is refused (or the default when empty)',
    (value) => {
      const load = () => loadPostsConfig({ DATABASE_URL: 'postgres://localhost/posts', POSTS_SEARCH_LANGUAGE: value });
      if (value === '') expect(load().searchLanguage).toBe('english');
      else expect(load).toThrow(ConfigError);
    },
  );
});

describe('the request schemas', () => {
  const valid = { title: 'A title', body: 'Some text' };

  it('when a post is written without tags or published, then it is a draft with no tags; the title is trimmed', () => {
    expect(CreatePostRequest.parse({ ...valid, title: '  A title  ' })).toEqual({
      title: 'A title',
      body: 'Some text',
      tags: [],
      published: false,
    });
  });

  it.each([
    ['an empty title', { ...valid, title: '' }],
    ['a blank title', { ...valid, title: '   ' }],
    ['a title of 501 characters', { ...valid, title: 'x'.repeat(501) }],
    ['a body of 100,001 characters', { ...valid, body: 'x'.repeat(100_001) }],
    ['eleven tags', { ...valid, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }],
    ['a tag in capitals', { ...valid, tags: ['Postgres'] }],
    ['a tag of 33 characters', { ...valid, tags: ['x'.repeat(33)] }],
    ['a repeated tag', { ...valid, tags: ['a', 'a'] }],
    ['a tag with a double hyphen', { ...valid, tags: ['a--b'] }],
    ['an unknown field', { ...valid, author_id: 'someone' }],
  ])('when a new post has %s, then it is refused', (_case, body) => {
    expect(CreatePostRequest.safeParse(body).success).toBe(false);
  });

  it('when a title of 500 characters counts emoji as one each, then it is accepted', () => {
    expect(CreatePostRequest.safeParse({ ...valid, title: '😀'.repeat(500) }).success).toBe(true);
  });

  it('when an update names no field, then it is refused', () => {
    expect(UpdatePostRequest.safeParse({}).success).toBe(false);
    expect(UpdatePostRequest.safeParse({ published: true }).success).toBe(true);
  });

  it('when a list is asked with a bad author or tag, then it is refused', () => {
    expect(ListQuery.safeParse({ author: 'nobody' }).success).toBe(false);
    expect(ListQuery.safeParse({ tag: 'Not A Slug' }).success).toBe(false);
  });
});
