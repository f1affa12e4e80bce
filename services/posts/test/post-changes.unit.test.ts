import { planUpdate } from '../src/domain/post-changes';
import type { Post } from '../src/domain/post-service';

const draft: Post = {
  id: 'p',
  authorId: 'a',
  title: 'Title',
  body: 'Body',
  tags: ['x', 'y'],
  published: false,
  publishedAt: null,
  createdAt: new Date(),
  updatedAt: new Date(),
};

describe('planning an update', () => {
  it('when a patch repeats the current values, then nothing changes and nothing is announced', () => {
    expect(planUpdate(draft, { title: 'Title', body: 'Body', tags: ['x', 'y'], published: false })).toEqual({
      changed: [],
      changes: {},
      firstPublished: false,
    });
  });

  it('when fields differ, then exactly those are changed, tags compared in order', () => {
    expect(planUpdate(draft, { title: 'New', tags: ['y', 'x'] })).toEqual({
      changed: ['title', 'tags'],
      changes: { title: 'New', tags: ['y', 'x'] },
      firstPublished: false,
    });
  });

  it('when a draft is published for the first time, then published_at is set and the publication announced', () => {
    expect(planUpdate(draft, { published: true })).toEqual({
      changed: ['published'],
      changes: { published: true, publishedAt: 'now' },
      firstPublished: true,
    });
  });

  it('when a post that was published once is published again, then published_at stays and nothing is announced as first', () => {
    const unpublished = { ...draft, publishedAt: new Date('2025-01-01T00:00:00Z') };
    expect(planUpdate(unpublished, { published: true })).toEqual({
      changed: ['published'],
      changes: { published: true },
      firstPublished: false,
    });
  });

  it('when a published post goes back to draft, then only published changes', () => {
    const live = { ...draft, published: true, publishedAt: new Date() };
    expect(planUpdate(live, { published: false })).toEqual({
      changed: ['published'],
      changes: { published: false },
      firstPublished: false,
    });
  });
});
