import { randomUUID } from 'node:crypto';
import { KafkaEventBus, type EventEnvelope } from '@galion/events';
import { testKafkaBrokers } from '@galion/localdeps';
import {
  ensureTestTopics,
  events,
  eventually,
  homeOf,
  ids,
  metricValue,
  silentLogger,
  startFeed,
  uniqueName,
  userId,
  type FeedHarness,
} from './harness';

jest.setTimeout(120_000);

/** How long an event may take from the broker to the feed while the group is joined. */
const BOUND_MS = 15_000;

describe('the feed consumer on a real Kafka broker', () => {
  const topic = uniqueName('user-events');
  let producer: KafkaEventBus;
  let h: FeedHarness;
  const publish = (...list: (EventEnvelope | { key: string; value: string })[]) =>
    producer.publish(
      topic,
      list.map((item) => ('value' in item ? item : { key: item.subject, value: JSON.stringify(item) })),
    );
  const home = (user: string) => homeOf(h.service.reader, user);
  const globalIds = async () => ids((await h.service.reader.global({ limit: 100 })).items);

  beforeAll(async () => {
    producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'feed-test', logger: silentLogger });
    await ensureTestTopics(producer, [
      { name: topic, partitions: 3 },
      { name: `${topic}.dlq`, partitions: 1 },
    ]);
    h = await startFeed({
      env: {
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        FEED_TOPIC: topic,
        FEED_DLQ_TOPIC: `${topic}.dlq`,
        FEED_CONSUMER_GROUP: uniqueName('feed'),
        FEED_CONSUMER_ENABLED: 'true',
      },
    });
    await h.service.consumer!.started;
    await eventually(() => h.service.consumer!.subscription?.ready === true, 60_000, 'the consumer joined its group');
  });
  afterAll(async () => {
    await h?.close();
    await producer.close();
  });

  it('when the consumer has joined, then readiness checks Redis and the consumer', async () => {
    const ready = await h.http.get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ redis: 'ok', consumer: 'ok' });
  });

  it(`when a user follows an author and the author publishes, then the post is in the follower's home feed within ${BOUND_MS / 1000} s`, async () => {
    const [reader, author] = [userId(), userId()];
    await publish(events.followed(reader, author));
    await eventually(async () => (await h.service.store.following(reader)).includes(author), BOUND_MS, 'the follow applied');
    const post = events.published(author, randomUUID());
    const sent = Date.now();
    await publish(post);
    await eventually(async () => ids(await home(reader)).includes(post.id), BOUND_MS, 'the post in the home feed');
    expect(Date.now() - sent).toBeLessThan(BOUND_MS);
    const page = await h.http
      .get('/api/v1/feed/home')
      .set('Authorization', await h.bearer(reader))
      .expect(200);
    expect(page.body.items.map((item: { id: string }) => item.id)).toEqual([post.id]);
  });

  it('when a user unfollows, then the author’s later posts do not reach their home feed', async () => {
    const [reader, author] = [userId(), userId()];
    const before = events.published(author, randomUUID());
    await publish(events.followed(reader, author), before);
    await eventually(async () => ids(await home(reader)).includes(before.id), BOUND_MS, 'the first post');
    await publish(events.unfollowed(reader, author));
    await eventually(async () => (await h.service.store.following(reader)).length === 0, BOUND_MS, 'the unfollow applied');
    const after = events.published(author, randomUUID());
    await publish(after);
    await eventually(async () => (await globalIds()).includes(after.id), BOUND_MS, 'the later post consumed');
    expect(await home(reader)).toEqual([]);
  });

  it('when the same event is delivered twice, then the feed has it once and the second is counted a duplicate', async () => {
    const [reader, author] = [userId(), userId()];
    await publish(events.followed(reader, author));
    await eventually(async () => (await h.service.store.following(reader)).includes(author), BOUND_MS, 'the follow applied');
    const post = events.published(author, randomUUID());
    const marker = events.published(author, randomUUID());
    await publish(post, post, marker);
    await eventually(async () => ids(await home(reader)).includes(marker.id), BOUND_MS, 'the events consumed');
    expect(ids(await home(reader))).toEqual([marker.id, post.id]);
    const metrics = (await h.http.get('/metrics').expect(200)).text;
    expect(metricValue(metrics, 'feed_events_total{type="post.published",outcome="duplicate"}')).toBeGreaterThanOrEqual(1);
  });

  it('when a message is not a valid event, then it is dead-lettered and the events behind it are applied', async () => {
    const author = userId();
    const post = events.published(author, randomUUID());
    await publish({ key: author, value: 'not json' }, post);
    await eventually(async () => (await globalIds()).includes(post.id), BOUND_MS, 'the post behind the bad message');
    // Dead-lettered after the batch's valid events are applied.
    await eventually(
      async () => metricValue((await h.http.get('/metrics')).text, 'feed_dlq_total') === 1,
      BOUND_MS,
      'the bad message dead-lettered',
    );
    const metrics = (await h.http.get('/metrics').expect(200)).text;
    expect(metricValue(metrics, 'feed_fanout_entries_total')).toBeGreaterThanOrEqual(3);
    await eventually(
      async () => /^feed_consumer_lag\{topic="[^"]+",partition="\d"\} 0$/m.test((await h.http.get('/metrics')).text),
      BOUND_MS,
      'the consumer lag on /metrics',
    );
  });
});
