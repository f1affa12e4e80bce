import { createEvent, type EventEnvelope, type EventType } from '@galion/events';
import { followVersion, planEvent, TOMBSTONE_MARGIN_MS } from '../src/domain/plan';

const DAY = 86_400_000;
const now = Date.parse('2026-03-01T12:00:00.000Z');
const context = { now, entryTtlMs: 30 * DAY };
const at = (iso: string) => new Date(iso);
const make = <T extends EventType>(type: T, subject: string, data: EventEnvelope<T>['data'], time = at('2026-03-01T11:00:00.250Z')) =>
  createEvent(type, { source: 'test', subject, data, time });

describe('what an event does to the feed', () => {
  it('when a post is published, then it is an entry of the author, scored by its time, living FEED_ENTRY_TTL_DAYS', () => {
    const event = make('post.published', 'author', { post_id: 'p1', title: 'Hello', tags: ['a'] });
    const score = Date.parse('2026-03-01T11:00:00.250Z');
    expect(planEvent(event, context)).toEqual({
      write: {
        op: 'add-post',
        entry: {
          id: event.id,
          kind: 'post',
          actor: 'author',
          post_id: 'p1',
          title: 'Hello',
          tags: ['a'],
          time: '2026-03-01T11:00:00.250Z',
        },
        score,
        expireAt: score + 30 * DAY,
      },
    });
  });

  it('when a comment is created, then it is an entry for the post’s author', () => {
    const event = make('comment.created', 'commenter', { comment_id: 'c1', post_id: 'p1', post_author_id: 'author' });
    expect(planEvent(event, context)).toMatchObject({
      write: {
        op: 'add-comment',
        entry: { kind: 'comment', actor: 'commenter', post_id: 'p1', comment_id: 'c1', post_author_id: 'author' },
      },
    });
  });

  it('when follows change, then they are follow writes versioned by time then id; following oneself is ignored', () => {
    expect(planEvent(make('user.followed', 'a', { followee_id: 'b' }), context)).toMatchObject({
      write: { op: 'follow', follower: 'a', followee: 'b', following: true },
    });
    expect(planEvent(make('user.unfollowed', 'a', { followee_id: 'b' }), context)).toMatchObject({
      write: { op: 'follow', following: false },
    });
    expect(planEvent(make('user.followed', 'a', { followee_id: 'a' }), context)).toEqual({ ignored: 'self-follow' });
  });

  it('when follow events are ordered by their version text, then it is their order in time, then by id', () => {
    const times = ['2026-03-01T11:00:00.250Z', '2026-03-01T11:00:00.251Z', '2026-03-01T11:00:01.000Z', '2027-01-01T00:00:00.000Z'];
    const versions = times.map((time) => followVersion({ time, id: '0193b6e8-8f6a-7c3e-9d4a-2b1f0e5c7a90' }));
    expect([...versions].sort()).toEqual(versions);
    const sameTime = ['0193b6e8-0000-7000-8000-000000000001', '0193b6e8-0000-7000-8000-000000000002'].map((id) =>
      followVersion({ time: times[0]!, id }),
    );
    expect(sameTime[0]! < sameTime[1]!).toBe(true);
  });

  it('when posts or comments are deleted or a post goes back to draft, then their entries go, with a tombstone past their expiry', () => {
    const time = at('2026-03-01T11:00:00.000Z');
    const until = time.getTime() + 30 * DAY + TOMBSTONE_MARGIN_MS;
    expect(planEvent(make('post.deleted', 'author', { post_id: 'p1' }, time), context)).toEqual({
      write: { op: 'remove-post', postId: 'p1', tombstoneUntil: until },
    });
    expect(planEvent(make('post.updated', 'author', { post_id: 'p1', changes: ['published'], published: false }, time), context)).toEqual({
      write: { op: 'remove-post', postId: 'p1', tombstoneUntil: until },
    });
    expect(planEvent(make('post.updated', 'author', { post_id: 'p1', changes: ['title'], published: true }, time), context)).toEqual({
      ignored: 'not-feed',
    });
    expect(planEvent(make('comment.deleted', 'c', { comment_id: 'c1', post_id: 'p1' }, time), context)).toEqual({
      write: { op: 'remove-comment', commentId: 'c1', tombstoneUntil: until },
    });
    expect(planEvent(make('user.deleted', 'u', {}, time), context)).toEqual({ write: { op: 'erase-user', userId: 'u' } });
  });

  it('when an event is past the window, or is not the feed’s, then it is ignored', () => {
    const old = at('2026-01-01T00:00:00.000Z');
    expect(planEvent(make('post.published', 'a', { post_id: 'p', title: 't', tags: [] }, old), context)).toEqual({ ignored: 'expired' });
    expect(planEvent(make('comment.created', 'a', { comment_id: 'c', post_id: 'p', post_author_id: 'b' }, old), context)).toEqual({
      ignored: 'expired',
    });
    expect(planEvent(make('user.logged_in', 'a', {}), context)).toEqual({ ignored: 'not-feed' });
    expect(planEvent(make('post.created', 'a', { post_id: 'p', title: 't', published: true, tags: [] }), context)).toEqual({
      ignored: 'not-feed',
    });
    // Media's events are valid events of another service: ignored, never dead-lettered.
    const upload = { media_id: 'm', content_type: 'image/png', bytes: 10, width: 1, height: 1 };
    expect(planEvent(make('media.uploaded', 'a', upload), context)).toEqual({ ignored: 'not-feed' });
    expect(planEvent(make('media.deleted', 'a', { media_id: 'm' }), context)).toEqual({ ignored: 'not-feed' });
  });

  it('when an event time has an offset or an upper-case id, then the entry has the UTC time and the lower-case id, the same on every delivery', () => {
    const event = {
      ...make('post.published', 'a', { post_id: 'p', title: 't', tags: [] }),
      id: '0193B6E8-8F6A-7C3E-9D4A-2B1F0E5C7A90',
      time: '2026-03-01T12:30:00.000+01:00',
    };
    expect(planEvent(event, context)).toMatchObject({
      write: { entry: { id: '0193b6e8-8f6a-7c3e-9d4a-2b1f0e5c7a90', time: '2026-03-01T11:30:00.000Z' } },
    });
    expect(planEvent(event, context)).toEqual(planEvent(event, context));
  });
});
