import type { ChainableCommander, Redis } from 'ioredis';
import { ADD_COMMENT, ADD_POST, ERASE_USER, FOLLOW, READ_AFTER, REMOVE_COMMENT, REMOVE_POST } from './scripts.js';

/** An entry as it is stored (`entry:<id>`, JSON): what happened, by whom, about which post. */
export interface StoredEntry {
  /** The id of the event it comes from. */
  id: string;
  kind: 'post' | 'comment';
  /** Who did it: the post's author, or the commenter. */
  actor: string;
  post_id: string;
  /** A post's title and tags as published. */
  title?: string;
  tags?: string[];
  comment_id?: string;
  /** A comment's post's author, whose home feed it goes to. */
  post_author_id?: string;
  /** The event time, ISO-8601 UTC with milliseconds. */
  time: string;
}

/** What one event does to the feed, as the store applies it (each write is one atomic script). */
export type FeedWrite =
  | { op: 'follow'; follower: string; followee: string; following: boolean; version: string }
  | { op: 'add-post'; entry: StoredEntry; score: number; expireAt: number }
  | { op: 'add-comment'; entry: StoredEntry & { comment_id: string; post_author_id: string }; score: number; expireAt: number }
  | { op: 'remove-post'; postId: string; tombstoneUntil: number }
  | { op: 'remove-comment'; commentId: string; tombstoneUntil: number }
  | { op: 'erase-user'; userId: string };

/**
 * What a write did: `applied`, `duplicate` (this event was applied before), `stale` (a newer event
 * of the same follow was), `gone` (its post, comment or user was deleted), or `timeline-only` (a
 * post of a big account). `homes` counts the home feeds written (fan-out, a follow's copy).
 */
export interface WriteResult {
  outcome: 'applied' | 'duplicate' | 'stale' | 'gone' | 'timeline-only';
  homes: number;
  removed: number;
}

/** One list of entry ids: a user's home feed, an author's timeline, or the global feed. */
export type FeedList = { kind: 'home'; userId: string } | { kind: 'timeline'; userId: string } | { kind: 'global' };

/** A member of a list: an entry id and its score (the event time in ms). */
export interface ListItem {
  id: string;
  score: number;
}

export interface FeedStoreOptions {
  /** Put before every key (FEED_REDIS_PREFIX). */
  prefix: string;
  /** Entries kept per home feed and timeline (FEED_MAX_ENTRIES). */
  maxEntries: number;
  /** Entries kept in the global feed (FEED_GLOBAL_MAX_ENTRIES). */
  globalMaxEntries: number;
  /** Followers above which an author is a big account (FEED_FANOUT_MAX_FOLLOWERS). */
  fanoutMaxFollowers: number;
}

type ScriptArgs = (string | number)[];
interface FeedCommands {
  feedFollow(...args: ScriptArgs): Promise<unknown>;
  feedAddPost(...args: ScriptArgs): Promise<unknown>;
  feedAddComment(...args: ScriptArgs): Promise<unknown>;
  feedRemovePost(...args: ScriptArgs): Promise<unknown>;
  feedRemoveComment(...args: ScriptArgs): Promise<unknown>;
  feedEraseUser(...args: ScriptArgs): Promise<unknown>;
  feedReadAfter(...args: ScriptArgs): Promise<unknown>;
}
type FeedPipeline = ChainableCommander & { [K in keyof FeedCommands]: (...args: ScriptArgs) => FeedPipeline };

const SCRIPTS: Record<keyof FeedCommands, string> = {
  feedFollow: FOLLOW,
  feedAddPost: ADD_POST,
  feedAddComment: ADD_COMMENT,
  feedRemovePost: REMOVE_POST,
  feedRemoveComment: REMOVE_COMMENT,
  feedEraseUser: ERASE_USER,
  feedReadAfter: READ_AFTER,
};

const CHUNK = 500;

/** Throws the first error of a pipeline's replies, and gives the values. */
const valuesOf = (replies: [Error | null, unknown][] | null): unknown[] => {
  if (!replies) throw new Error('the Redis transaction was discarded');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
};

const toResult = (write: FeedWrite, reply: unknown): WriteResult => {
  const [outcome, count] = reply as [WriteResult['outcome'], number];
  const removing = write.op === 'remove-post' || write.op === 'remove-comment' || write.op === 'erase-user';
  return { outcome, homes: removing ? 0 : Number(count), removed: removing ? Number(count) : 0 };
};

/**
 * The feed's Redis: the follow graph's copy, the entries, and the sorted sets of entry ids (score:
 * the event time in ms) that make the home feeds, the authors' timelines and the global feed.
 * Every write is one atomic script (scripts.ts), so an event is applied whole or not at all and
 * applying it again changes nothing.
 */
export class FeedStore {
  private readonly redis: Redis & FeedCommands;

  constructor(
    redis: Redis,
    private readonly options: FeedStoreOptions,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.redis = redis as Redis & FeedCommands;
  }

  private key(...parts: string[]): string {
    return this.options.prefix + parts.join(':');
  }

  private listKey(list: FeedList): string {
    return list.kind === 'global' ? this.key('global') : this.key(list.kind, list.userId);
  }

  /**
   * Applies the writes in order, in one pipeline (one round trip): each is atomic, and they run in
   * the order given. A user's erasure then detaches them from the follow graph in chunks.
   */
  async apply(writes: FeedWrite[], window: { minScore: number }): Promise<WriteResult[]> {
    if (writes.length === 0) return [];
    const { prefix, maxEntries, globalMaxEntries, fanoutMaxFollowers } = this.options;
    const min = String(window.minScore);
    const pipeline = this.redis.pipeline() as FeedPipeline;
    for (const write of writes) {
      switch (write.op) {
        case 'follow':
          pipeline.feedFollow(
            prefix,
            write.follower,
            write.followee,
            write.version,
            write.following ? '1' : '0',
            fanoutMaxFollowers,
            maxEntries,
            min,
          );
          break;
        case 'add-post':
          pipeline.feedAddPost(
            prefix,
            write.entry.id,
            write.entry.actor,
            write.entry.post_id,
            write.score,
            JSON.stringify(write.entry),
            write.expireAt,
            fanoutMaxFollowers,
            maxEntries,
            globalMaxEntries,
            min,
          );
          break;
        case 'add-comment':
          pipeline.feedAddComment(
            prefix,
            write.entry.id,
            write.entry.actor,
            write.entry.post_id,
            write.entry.post_author_id,
            write.entry.comment_id,
            write.score,
            JSON.stringify(write.entry),
            write.expireAt,
            maxEntries,
            globalMaxEntries,
            min,
          );
          break;
        case 'remove-post':
          pipeline.feedRemovePost(prefix, write.postId, write.tombstoneUntil);
          break;
        case 'remove-comment':
          pipeline.feedRemoveComment(prefix, write.commentId, write.tombstoneUntil);
          break;
        case 'erase-user':
          pipeline.feedEraseUser(prefix, write.userId);
          break;
      }
    }
    const results = valuesOf(await pipeline.exec()).map((reply, index) => toResult(writes[index]!, reply));
    for (const write of writes) if (write.op === 'erase-user') await this.detachUser(write.userId);
    return results;
  }

  /**
   * Takes a deleted user out of the follow graph: out of the followers of everyone they followed,
   * out of the follows of everyone who followed them. In chunks (an account may have millions of
   * followers), so not atomic, and safe to repeat: the user is already marked deleted, so nothing
   * adds them back meanwhile.
   */
  private async detachUser(userId: string): Promise<void> {
    const sides = [
      { set: this.key('following', userId), other: 'followers', versions: false },
      { set: this.key('followers', userId), other: 'following', versions: true },
    ];
    for (const side of sides) {
      let cursor = '0';
      do {
        const [next, members] = await this.redis.sscan(side.set, cursor, 'COUNT', CHUNK);
        cursor = next;
        if (members.length === 0) continue;
        const pipeline = this.redis.pipeline();
        for (const member of members) {
          pipeline.srem(this.key(side.other, member), userId);
          if (side.versions) pipeline.hdel(this.key('follow-version', member), userId);
        }
        valuesOf(await pipeline.exec());
      } while (cursor !== '0');
      await this.redis.del(side.set);
    }
  }

  /** The big accounts `userId` follows: their timelines are merged into the home feed when read. */
  async bigFollowees(userId: string): Promise<string[]> {
    return this.redis.sinter(this.key('following', userId), this.key('big'));
  }

  /**
   * Up to `count` members of each list after `after` (newest first by score, then id), none older
   * than `minScore`; all lists in one round trip.
   */
  async readLists(lists: FeedList[], after: ListItem | undefined, count: number, minScore: number): Promise<ListItem[][]> {
    if (lists.length === 0) return [];
    const pipeline = this.redis.pipeline() as FeedPipeline;
    for (const list of lists) {
      pipeline.feedReadAfter(
        this.options.prefix,
        this.listKey(list),
        after ? String(after.score) : '+inf',
        after?.id ?? '',
        String(minScore),
        count,
      );
    }
    return valuesOf(await pipeline.exec()).map((reply) => {
      const flat = reply as string[];
      const items: ListItem[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) items.push({ id: flat[i]!, score: Number(flat[i + 1]) });
      return items;
    });
  }

  /** The stored entries of these ids, in order; null for one that is gone (deleted or expired). */
  async entries(ids: string[]): Promise<(StoredEntry | null)[]> {
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.key('entry', id)));
    return values.map((value) => (value === null ? null : (JSON.parse(value) as StoredEntry)));
  }

  /** Takes ids whose entries are gone out of a list (readers clean up what erasure left behind). */
  async forget(list: FeedList, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.zrem(this.listKey(list), ...ids);
  }

  /** The ids `userId` follows (the copy kept here). */
  async following(userId: string): Promise<string[]> {
    return (await this.redis.smembers(this.key('following', userId))).sort();
  }

  /** Checks that Redis answers (readiness). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }
}
