import type { EventEnvelope } from '@galion/events';
import type { FeedWrite, StoredEntry } from '../repositories/feed-store.js';

/**
 * Past an entry's expiry, a tombstone lives this much longer: a post.published or comment.created
 * delivered after the deletion of its post has an event time before the deletion's (give or take
 * the producers' clocks), so by the time the tombstone expires that event is past its own expiry
 * and refused for it.
 */
export const TOMBSTONE_MARGIN_MS = 3_600_000;

/** Why an event changes nothing in the feed. */
export type Ignored = 'not-feed' | 'expired' | 'self-follow';

export type Plan = { write: FeedWrite } | { ignored: Ignored };

export interface PlanContext {
  /** Now, in ms since the epoch. */
  now: number;
  /** How long an entry lives from its event time (FEED_ENTRY_TTL_DAYS). */
  entryTtlMs: number;
}

/** The event time as the feeds' score: ms since the epoch. */
export const scoreOf = (event: Pick<EventEnvelope, 'time'>): number => Date.parse(event.time);

/**
 * The order of a follow's events: time, then id (a UUIDv7, itself time-ordered), as text that
 * sorts the same way. The last event of a (follower, followee) pair wins, whatever order they are
 * applied in: a replay running beside the live consumer cannot undo a newer follow or unfollow.
 */
export const followVersion = (event: Pick<EventEnvelope, 'time' | 'id'>): string =>
  `${String(scoreOf(event)).padStart(15, '0')}:${event.id.toLowerCase()}`;

const entryOf = (event: EventEnvelope, fields: Omit<StoredEntry, 'id' | 'actor' | 'time'>): StoredEntry => ({
  id: event.id.toLowerCase(),
  actor: event.subject,
  time: new Date(scoreOf(event)).toISOString(),
  ...fields,
});

/**
 * What an event does to the feed: the write to apply, or why it is ignored. Pure: the same event
 * always plans the same write (given the clock, only for whether it is already past its expiry), so
 * a redelivery or a replay writes the same members and changes nothing more.
 */
export const planEvent = (event: EventEnvelope, context: PlanContext): Plan => {
  const score = scoreOf(event);
  const expireAt = score + context.entryTtlMs;
  const tombstoneUntil = expireAt + TOMBSTONE_MARGIN_MS;
  switch (event.type) {
    case 'user.followed':
    case 'user.unfollowed': {
      const { followee_id: followee } = (event as EventEnvelope<'user.followed'>).data;
      if (followee === event.subject) return { ignored: 'self-follow' };
      return {
        write: {
          op: 'follow',
          follower: event.subject,
          followee,
          following: event.type === 'user.followed',
          version: followVersion(event),
        },
      };
    }
    case 'post.published': {
      if (expireAt <= context.now) return { ignored: 'expired' };
      const { post_id, title, tags } = (event as EventEnvelope<'post.published'>).data;
      return { write: { op: 'add-post', entry: entryOf(event, { kind: 'post', post_id, title, tags }), score, expireAt } };
    }
    case 'post.updated': {
      // Back to draft: out of the feeds for good (posts announces post.published only the first time).
      const { post_id, published } = (event as EventEnvelope<'post.updated'>).data;
      return published ? { ignored: 'not-feed' } : { write: { op: 'remove-post', postId: post_id, tombstoneUntil } };
    }
    case 'post.deleted':
      return { write: { op: 'remove-post', postId: (event as EventEnvelope<'post.deleted'>).data.post_id, tombstoneUntil } };
    case 'comment.created': {
      if (expireAt <= context.now) return { ignored: 'expired' };
      const { comment_id, post_id, post_author_id } = (event as EventEnvelope<'comment.created'>).data;
      const entry = { ...entryOf(event, { kind: 'comment', post_id }), comment_id, post_author_id };
      return { write: { op: 'add-comment', entry, score, expireAt } };
    }
    case 'comment.deleted':
      return { write: { op: 'remove-comment', commentId: (event as EventEnvelope<'comment.deleted'>).data.comment_id, tombstoneUntil } };
    case 'user.deleted':
      return { write: { op: 'erase-user', userId: event.subject } };
    default:
      return { ignored: 'not-feed' };
  }
};
