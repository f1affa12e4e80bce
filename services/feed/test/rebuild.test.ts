import { randomUUID } from 'node:crypto';
import { KafkaEventBus, type EventEnvelope } from '@galion/events';
import { startRedis, testKafkaBrokers, type RedisHandle } from '@galion/localdeps';
import type { Redis } from 'ioredis';
import { rebuildFeed } from '../src/replay';
import {
  connectRedis,
  ensureTestTopics,
  events,
  eventually,
  globalOf,
  homeOf,
  silentLogger,
  startFeed,
  uniqueName,
  userId,
  type FeedHarness,
} from './harness';

jest.setTimeout(180_000);

/**
 * Redis loses its data; the rebuild replays the topic and gives back the same feeds. On a Redis of
 * this test's own, so FLUSHDB wipes nothing of another test's.
 */
describe('rebuilding the feeds after Redis lost its data', () => {
  const topic = uniqueName('user-events');
  const group = uniqueName('feed');
  let redisServer: RedisHandle;
  let redis: Redis;
  let producer: KafkaEventBus;
  let h: FeedHarness;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = await connectRedis(redisServer.url);
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'feed-rebuild-test', logger: silentLogger });
    await ensureTestTopics(producer, [
      { name: topic, partitions: 3 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    h = await startFeed({
      env: {
        REDIS_URL: redisServer.url,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        FEED_TOPIC: topic,
        FEED_DLQ_TOPIC: `${topic}.dlq`,
        FEED_CONSUMER_GROUP: group,
        FEED_CONSUMER_ENABLED: 'true',
        // `star` may have three followers at once: a big account, merged at read time.
        FEED_FANOUT_MAX_FOLLOWERS: '2',
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await producer?.close();
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('when Redis is flushed and the rebuild replays the topic, then every home feed, the global feed and the follow graph are as before', async () => {
    const [star, small, commenter, leaving, r1, r2, r3] = Array.from({ length: 7 }, userId);
    const users = [star, small, commenter, leaving, r1, r2, r3];
    const [p1, p2, p3, p4, q1, q2, q3, d1] = Array.from({ length: 8 }, () => randomUUID());
    const byStar = [events.published(star, p1), events.published(star, p2), events.published(star, p3)];
    const removedComment = events.commented(r1, p1, star);
    const story: EventEnvelope[] = [
      events.followed(r1, star),
      events.followed(r2, star),
      events.followed(r3, star),
      events.followed(r1, small),
      events.followed(r2, leaving),
      events.followed(leaving, small),
      events.followed(commenter, small),
      ...byStar,
      byStar[0]!,
      events.published(small, q1),
      events.published(small, q2),
      events.published(leaving, d1),
      events.commented(commenter, q1, small),
      removedComment,
      events.commented(leaving, q2, small),
      events.commented(commenter, d1, leaving),
      events.commented(star, q1, small),
      events.postDeleted(star, p2),
      events.commentDeleted(r1, p1, removedComment.data.comment_id),
      events.updated(small, q2, false),
      events.unfollowed(r3, star),
      events.userDeleted(leaving),
      events.published(star, p4),
      events.published(small, q3),
      events.followed(r3, small),
    ];
    await producer.publish(topic, [
      ...story.map((event) => ({ key: event.subject, value: JSON.stringify(event) })),
      { key: star, value: '{"not": "an event"}' },
    ]);
    await eventually(
      async () => (await producer.consumerLag(group, topic)).every(({ lag }) => lag === 0),
      60_000,
      'the live consumer caught up',
    );

    const snapshot = async () => ({
      homes: Object.fromEntries(await Promise.all(users.map(async (user) => [user, await homeOf(h.service.reader, user, 3)]))),
      global: await globalOf(h.service.reader, 4),
      following: Object.fromEntries(await Promise.all(users.map(async (user) => [user, await h.service.store.following(user)]))),
    });
    const before = await snapshot();
    // The story did what it says: star's posts reach r1 and r2 (fanned out or merged), deletions took.
    expect(before.homes[r1]!.map((entry) => entry.post_id)).toEqual([q3, p4, q1, p3, p1]);
    expect(before.homes[r2]!.map((entry) => entry.post_id)).toEqual([p4, p3, p1]);
    expect(before.homes[r3]!.map((entry) => entry.post_id)).toEqual([q3, q1]);
    expect(before.homes[small]!.map((entry) => [entry.kind, entry.actor])).toEqual([
      ['comment', star],
      ['comment', commenter],
    ]);
    // Five posts (p2 deleted, q2 back to draft, d1 erased) and two comments (one deleted, two erased).
    expect(before.global).toHaveLength(7);
    expect(before.following[r2]).toEqual([star]);

    await redis.flushdb();
    expect(await globalOf(h.service.reader)).toEqual([]);

    const report = await rebuildFeed(h.config, { logger: silentLogger, pollMs: 100 });
    expect(report.events).toBe(story.length);
    expect(report.skippedInvalid).toBe(1);
    expect(report.groupId).toMatch(new RegExp(`^${group}-rebuild-\\d+$`));
    expect(await snapshot()).toEqual(before);
  });
});
