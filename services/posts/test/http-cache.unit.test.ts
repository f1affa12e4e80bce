import { cacheControl, ifNoneMatchHits, strongEtag } from '../src/http-cache';

describe('the ETag of a representation', () => {
  it('when the representation is the same, then so is its strong ETag; when any field differs, then it differs', () => {
    const post = { id: 'p', title: 'Hello', tags: ['a'] };
    expect(strongEtag(post)).toBe(strongEtag({ ...post }));
    expect(strongEtag(post)).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(strongEtag({ ...post, title: 'Hello!' })).not.toBe(strongEtag(post));
    expect(strongEtag({ ...post, tags: ['a', 'b'] })).not.toBe(strongEtag(post));
  });
});

describe('If-None-Match', () => {
  const etag = '"abc"';

  it.each([
    ['the same tag', '"abc"', true],
    ['the tag among others', '"x", "abc" , "y"', true],
    ['the weak form of the tag', 'W/"abc"', true],
    ['a star', '*', true],
    ['another tag', '"abd"', false],
    ['the tag without quotes', 'abc', false],
    ['an empty header', '', false],
    ['no header', undefined, false],
  ])('when it holds %s, then it matches: %s', (_case, header, hits) => {
    expect(ifNoneMatchHits(header, etag)).toBe(hits);
  });
});

describe('Cache-Control', () => {
  it('when the content is public, then shared caches may keep it for max-age; else it is private and not stored', () => {
    expect(cacheControl('public', 60)).toBe('public, max-age=60');
    expect(cacheControl('private', 60)).toBe('private, no-store');
  });
});
