import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@galion/events';
import { events, globalOf, homeOf, ids, keyspace, startFeed, tick, userId, type FeedHarness } from './harness';

/** The feeds kept in the real test Redis, events applied as the consumer applies a batch. */
describe('the feed in Redis', () => {
  let h: FeedHarness;
  beforeAll(async () => {
    h = await startFeed();
  });
  afterAll(async () => {
    await h.close();
  });
  const home = (user: string) => homeOf(h.service.reader, user);
  const global = () => globalOf(h.service.reader, 50);

  it('when a user follows an author, then the author’s new posts appear in their home feed, newest first, and not in anyone else’s', async () => {
    const [reader, author, stranger] = [userId(), userId(), userId()];
    const first = events.published(author, randomUUID());
    await h.apply(events.followed(reader, author), first);
    const second = events.published(author, randomUUID());
    await h.apply(second);

    const feed = await home(reader);
    expect(ids(feed)).toEqual([second.id, first.id]);
    expect(feed[0]).toEqual({
      id: second.id,
      kind: 'post',
      actor: author,
      post_id: second.data.post_id,
      title: second.data.title,
      tags: ['news'],
      time: new Date(second.time).toISOString(),
    });
    expect(await home(stranger)).toEqual([]);
    expect(ids(await global())).toEqual(expect.arrayContaining([first.id, second.id]));
  });

  it('when a user follows an author who posted before, then those posts are copied in; when they unfollow, the author’s posts leave and new ones do not come', async () => {
    const [reader, author, other] = [userId(), userId(), userId()];
    const earlier = events.published(author, randomUUID());
    const fromOther = events.published(other, randomUUID());
    await h.apply(earlier, events.followed(reader, other), fromOther, events.followed(reader, author));
    expect(ids(await home(reader))).toEqual([fromOther.id, earlier.id]);

    await h.apply(events.unfollowed(reader, author));
    const later = events.published(author, randomUUID());
    await h.apply(later);
    expect(ids(await home(reader))).toEqual([fromOther.id]);
    expect(await h.service.store.following(reader)).toEqual([other]);
  });

  it('when the same events are delivered twice, then the second delivery changes nothing in Redis', async () => {
    const [reader, author, commenter] = [userId(), userId(), userId()];
    const post = events.published(author, randomUUID());
    const batch = [
      events.followed(reader, author),
      post,
      events.commented(commenter, post.data.post_id, author),
      events.followed(commenter, author),
      events.unfollowed(commenter, author),
    ];
    const first = await h.service.updater.apply(batch);
    expect(first.outcomes.map(({ outcome }) => outcome)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    const before = await keyspace(h.service.store['redis'], h.config.redisPrefix);

    const again = await h.service.updater.apply(batch);
    // The follow was undone by the unfollow after it: it is older than what the pair holds now.
    expect(again.outcomes.map(({ outcome }) => outcome)).toEqual(['duplicate', 'duplicate', 'duplicate', 'stale', 'duplicate']);
    expect(again.fannedOut).toBe(0);
    expect(await keyspace(h.service.store['redis'], h.config.redisPrefix)).toEqual(before);
    expect(ids(await home(reader))).toEqual([post.id]);
  });

  it('when someone comments on a post, then the post’s author sees it in their home feed and everyone in the global feed; their own comment only in the global feed', async () => {
    const [author, commenter] = [userId(), userId()];
    const post = events.published(author, randomUUID());
    const comment = events.commented(commenter, post.data.post_id, author);
    const own = events.commented(author, post.data.post_id, author);
    await h.apply(post, comment, own);

    expect(await home(author)).toEqual([
      {
        id: comment.id,
        kind: 'comment',
        actor: commenter,
        post_id: post.data.post_id,
        comment_id: comment.data.comment_id,
        post_author_id: author,
        time: new Date(comment.time).toISOString(),
      },
    ]);
    expect(ids(await global()).slice(0, 3)).toEqual([own.id, comment.id, post.id]);
  });

  it('when a post is deleted, then it and the comments on it leave every feed, and a redelivered publication or a late comment does not bring them back', async () => {
    const [reader, author, commenter] = [userId(), userId(), userId()];
    const post = events.published(author, randomUUID());
    const comment = events.commented(commenter, post.data.post_id, author);
    const kept = events.published(author, randomUUID());
    await h.apply(events.followed(reader, author), post, comment, kept);
    expect(ids(await home(reader))).toEqual([kept.id, post.id]);

    const deleted = events.postDeleted(author, post.data.post_id);
    const summary = await h.service.updater.apply([deleted]);
    expect(summary.removed).toBe(2);
    expect(ids(await home(reader))).toEqual([kept.id]);
    expect(await home(author)).toEqual([]);
    expect(ids(await global())).not.toContain(post.id);
    expect(ids(await global())).not.toContain(comment.id);

    // Redelivered out of order: the publication and a comment arriving after the deletion.
    const late = await h.service.updater.apply([post, comment, events.commented(commenter, post.data.post_id, author)]);
    expect(late.outcomes.map(({ outcome }) => outcome)).toEqual(['gone', 'gone', 'gone']);
    expect(ids(await home(reader))).toEqual([kept.id]);
    expect(ids(await global())).not.toContain(post.id);
  });

  it('when a post goes back to draft, then it leaves the feeds', async () => {
    const [reader, author] = [userId(), userId()];
    const post = events.published(author, randomUUID());
    await h.apply(events.followed(reader, author), post);
    await h.apply(events.updated(author, post.data.post_id, true));
    expect(ids(await home(reader))).toEqual([post.id]);
    await h.apply(events.updated(author, post.data.post_id, false));
    expect(await home(reader)).toEqual([]);
    expect(ids(await global())).not.toContain(post.id);
  });

  it('when a comment is deleted, then its entry leaves the author’s home feed and the global feed, also if its creation is delivered again', async () => {
    const [author, commenter] = [userId(), userId()];
    const post = events.published(author, randomUUID());
    const comment = events.commented(commenter, post.data.post_id, author);
    await h.apply(post, comment);
    expect(ids(await home(author))).toEqual([comment.id]);
    await h.apply(events.commentDeleted(commenter, post.data.post_id, comment.data.comment_id), comment);
    expect(await home(author)).toEqual([]);
    expect(ids(await global())).not.toContain(comment.id);
  });

  it('when a user is deleted, then their posts, their comments and the comments on their posts leave every feed, and they leave the follow graph for good', async () => {
    const [gone, follower, followed, other] = [userId(), userId(), userId(), userId()];
    const theirPost = events.published(gone, randomUUID());
    const onTheirPost = events.commented(other, theirPost.data.post_id, gone);
    const otherPost = events.published(other, randomUUID());
    const theirComment = events.commented(gone, otherPost.data.post_id, other);
    await h.apply(
      events.followed(follower, gone),
      events.followed(gone, followed),
      events.followed(other, gone),
      theirPost,
      onTheirPost,
      otherPost,
      theirComment,
    );
    expect(ids(await home(follower))).toEqual([theirPost.id]);
    expect(ids(await home(other))).toEqual([theirComment.id, theirPost.id]);

    await h.apply(events.userDeleted(gone));
    expect(await home(follower)).toEqual([]);
    expect(await home(other)).toEqual([]);
    expect(await home(gone)).toEqual([]);
    const everyone = ids(await global());
    for (const entry of [theirPost, onTheirPost, theirComment]) expect(everyone).not.toContain(entry.id);
    expect(everyone).toContain(otherPost.id);
    expect(await h.service.store.following(follower)).toEqual([]);
    expect(await h.service.store.following(other)).toEqual([]);
    expect(await h.service.store.following(gone)).toEqual([]);

    // Late or replayed events of or about them change nothing.
    const late = await h.service.updater.apply([
      events.followed(userId(), gone),
      events.published(gone, randomUUID()),
      events.commented(gone, otherPost.data.post_id, other),
      theirPost,
    ]);
    expect(late.outcomes.map(({ outcome }) => outcome)).toEqual(['gone', 'gone', 'gone', 'gone']);
    expect(await home(other)).toEqual([]);
  });

  it('when an older follow event is applied after a newer unfollow (a replay beside the live consumer), then the newer one holds', async () => {
    const [reader, author] = [userId(), userId()];
    const follow = events.followed(reader, author);
    const unfollow = events.unfollowed(reader, author);
    await h.apply(unfollow);
    const summary = await h.service.updater.apply([follow]);
    expect(summary.outcomes[0]!.outcome).toBe('stale');
    await h.apply(events.published(author, randomUUID()));
    expect(await home(reader)).toEqual([]);
  });

  it('when an event is older than FEED_ENTRY_TTL_DAYS, then it makes no entry', async () => {
    const [reader, author] = [userId(), userId()];
    const old = events.published(author, randomUUID(), new Date(Date.now() - 31 * 86_400_000));
    const summary = await h.service.updater.apply([events.followed(reader, author), old]);
    expect(summary.outcomes[1]!.outcome).toBe('expired');
    expect(await home(reader)).toEqual([]);
  });
});

describe('paging a feed', () => {
  let h: FeedHarness;
  beforeAll(async () => {
    h = await startFeed({ env: { FEED_MAX_ENTRIES: '30' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('when new entries arrive between pages, then the pages that follow show no entry twice and skip none', async () => {
    const [reader, author] = [userId(), userId()];
    await h.apply(events.followed(reader, author));
    // Fifteen posts, three of them in the same millisecond (ordered by id then).
    const same = tick();
    const posts = [
      ...Array.from({ length: 6 }, () => events.published(author, randomUUID())),
      ...Array.from({ length: 3 }, () => events.published(author, randomUUID(), same)),
      ...Array.from({ length: 6 }, () => events.published(author, randomUUID())),
    ];
    await h.apply(...posts);

    const first = await h.service.reader.home(reader, { limit: 4 });
    const newer = Array.from({ length: 5 }, () => events.published(author, randomUUID()));
    await h.apply(...newer);
    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await h.service.reader.home(reader, { limit: 4, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor;
      if (seen.length === 8) await h.apply(events.published(author, randomUUID()));
    }
    const expected = [...posts].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.id < b.id ? 1 : -1)).map(({ id }) => id);
    expect(ids(seen)).toEqual(expected);
    expect(new Set(ids(seen)).size).toBe(15);
  });

  it('when a feed holds more than FEED_MAX_ENTRIES, then it is read no deeper than that', async () => {
    const [reader, author] = [userId(), userId()];
    await h.apply(events.followed(reader, author), ...Array.from({ length: 35 }, () => events.published(author, randomUUID())));
    expect(await homeOf(h.service.reader, reader, 7)).toHaveLength(30);
  });

  it('when a cursor is not one the feed gave out, or is another feed’s, then it is refused with invalid_cursor', async () => {
    const [reader, author] = [userId(), userId()];
    await h.apply(events.followed(reader, author), ...Array.from({ length: 3 }, () => events.published(author, randomUUID())));
    const page = await h.service.reader.home(reader, { limit: 1 });
    await expect(h.service.reader.global({ limit: 1, cursor: page.nextCursor! })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
    await expect(h.service.reader.home(reader, { limit: 1, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'invalid_cursor' });
  });
});

describe('the fan-out cap', () => {
  let fanout: FeedHarness;
  let merged: FeedHarness;
  beforeAll(async () => {
    [fanout, merged] = await Promise.all([
      startFeed({ env: { FEED_FANOUT_MAX_FOLLOWERS: '100', FEED_MAX_ENTRIES: '12' } }),
      startFeed({ env: { FEED_FANOUT_MAX_FOLLOWERS: '2', FEED_MAX_ENTRIES: '12' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([fanout.close(), merged.close()]);
  });

  it('when an author has more followers than the cap, then their posts stay on their timeline and each follower’s home feed, merged when read, is what fan-out gives', async () => {
    const [star, small, crossing] = [userId(), userId(), userId()];
    const readers = [userId(), userId(), userId(), userId()];
    const story = [
      // `crossing` posts while under the cap (fanned out everywhere), then gets a third follower.
      events.followed(readers[0]!, crossing),
      events.followed(readers[1]!, crossing),
      ...Array.from({ length: 3 }, () => events.published(crossing, randomUUID())),
      ...readers.map((reader) => events.followed(reader, star)),
      events.followed(readers[0]!, small),
      ...Array.from({ length: 6 }, (_, i) => events.published(i % 2 ? star : small, randomUUID())),
      events.followed(readers[2]!, crossing),
      ...Array.from({ length: 4 }, () => events.published(crossing, randomUUID())),
      ...Array.from({ length: 8 }, () => events.published(star, randomUUID())),
      events.unfollowed(readers[3]!, star),
      events.published(star, randomUUID()),
    ];
    const summaries = [await fanout.service.updater.apply(story), await merged.service.updater.apply(story)];
    expect(summaries[0]!.timelineOnly).toBe(0);
    // crossing's last 4, then star's 3, 8 and 1.
    expect(summaries[1]!.timelineOnly).toBe(4 + 3 + 8 + 1);
    expect(summaries[1]!.fannedOut).toBeLessThan(summaries[0]!.fannedOut);

    for (const reader of readers) {
      const written = await homeOf(fanout.service.reader, reader, 5);
      expect(await homeOf(merged.service.reader, reader, 5)).toEqual(written);
      expect(await homeOf(merged.service.reader, reader, 100)).toEqual(written);
    }
    // Reader 0 follows all three: more than FEED_MAX_ENTRIES entries, cut at 12 both ways.
    expect(await homeOf(merged.service.reader, readers[0]!, 5)).toHaveLength(12);
    expect(await homeOf(merged.service.reader, readers[3]!)).toEqual([]);
  });
});

/** A small deterministic random generator (mulberry32), so a failing story can be replayed. */
const seeded = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** A story as users and posts would tell it: follows that change, posts, comments, deletions, one account erased. */
const story = (random: () => number, users: string[]): EventEnvelope[] => {
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const out: EventEnvelope[] = [];
  const follows = new Set<string>();
  const posts: { id: string; author: string }[] = [];
  const comments: { id: string; post: string; commenter: string }[] = [];
  const erased = users[users.length - 1]!;
  for (let step = 0; step < 160; step += 1) {
    const alive = step < 130 ? users : users.filter((user) => user !== erased);
    if (step === 130) {
      out.push(events.userDeleted(erased));
      continue;
    }
    const roll = random();
    const actor = pick(alive);
    if (roll < 0.35) {
      const other = pick(alive);
      if (other === actor) continue;
      const pair = `${actor}>${other}`;
      out.push(follows.has(pair) ? events.unfollowed(actor, other) : events.followed(actor, other));
      if (follows.has(pair)) follows.delete(pair);
      else follows.add(pair);
    } else if (roll < 0.6) {
      const id = randomUUID();
      posts.push({ id, author: actor });
      out.push(events.published(actor, id));
    } else if (roll < 0.8 && posts.length > 0) {
      const post = pick(posts.filter(({ author }) => alive.includes(author)));
      if (!post) continue;
      const comment = events.commented(actor, post.id, post.author);
      comments.push({ id: comment.data.comment_id, post: post.id, commenter: actor });
      out.push(comment);
    } else if (roll < 0.88 && posts.length > 0) {
      const post = posts.splice(Math.floor(random() * posts.length), 1)[0]!;
      if (!alive.includes(post.author)) continue;
      out.push(random() < 0.5 ? events.postDeleted(post.author, post.id) : events.updated(post.author, post.id, false));
    } else if (comments.length > 0) {
      const comment = comments.splice(Math.floor(random() * comments.length), 1)[0]!;
      if (!alive.includes(comment.commenter)) continue;
      out.push(events.commentDeleted(comment.commenter, comment.post, comment.id));
    }
  }
  return out;
};

/** The partitions of a topic keyed by subject, read in another interleaving, each partition in its order. */
const interleave = (random: () => number, list: EventEnvelope[], users: string[]): EventEnvelope[][] => {
  const queues = [0, 1, 2].map((partition) => list.filter((event) => users.indexOf(event.subject) % 3 === partition));
  const batches: EventEnvelope[][] = [];
  while (queues.some((queue) => queue.length > 0)) {
    const queue = queues.filter((candidate) => candidate.length > 0)[Math.floor(random() * 3) % queues.filter((q) => q.length > 0).length]!;
    batches.push(queue.splice(0, 1 + Math.floor(random() * 4)));
  }
  return batches;
};

describe('the order events are applied in', () => {
  it('when the same events are applied in other orders across partitions, batch by batch or concurrently (as a replay beside the live consumer may), then every feed reads the same', async () => {
    const harnesses = await Promise.all(
      Array.from({ length: 3 }, () => startFeed({ env: { FEED_FANOUT_MAX_FOLLOWERS: '2', FEED_MAX_ENTRIES: '1000' } })),
    );
    try {
      for (const seed of [1, 2, 3, 4]) {
        const random = seeded(seed);
        const users = Array.from({ length: 7 }, userId);
        const told = story(random, users);
        const [inOrder, reordered, concurrent] = harnesses as [FeedHarness, FeedHarness, FeedHarness];
        await inOrder.service.updater.apply(told);
        for (const batch of interleave(random, told, users)) await reordered.service.updater.apply(batch);
        const partitions = [0, 1, 2].map((partition) => told.filter((event) => users.indexOf(event.subject) % 3 === partition));
        await Promise.all(
          partitions.map(async (partition) => {
            for (let i = 0; i < partition.length; i += 2) await concurrent.service.updater.apply(partition.slice(i, i + 2));
          }),
        );
        const read = async (h: FeedHarness) => ({
          homes: await Promise.all(users.map((user) => homeOf(h.service.reader, user, 4))),
          global: ids(await globalOf(h.service.reader, 9)).filter((id) => told.some((event) => event.id === id)),
          following: await Promise.all(users.map((user) => h.service.store.following(user))),
        });
        const expected = await read(inOrder);
        expect(expected.homes.some((home) => home.length > 3)).toBe(true);
        expect(await read(reordered)).toEqual(expected);
        expect(await read(concurrent)).toEqual(expected);
      }
    } finally {
      await Promise.all(harnesses.map((h) => h.close()));
    }
  });
});
