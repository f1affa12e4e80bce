import { randomBytes } from 'node:crypto';
import { KafkaEventBus } from '@galion/events';
import { testKafkaBrokers } from '@galion/localdeps';
import { eventually, silentLogger, startPosts, userDeleted, writePost, type Caller, type PostsHarness } from './harness';

jest.setTimeout(120_000);

const metric = async (h: PostsHarness, name: string): Promise<number> => {
  const text = (await h.http.get('/metrics').expect(200)).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
};

describe('user.deleted on the in-process bus', () => {
  let h: PostsHarness;
  let gone: Caller;
  let stays: Caller;
  beforeAll(async () => {
    h = await startPosts();
  });
  beforeEach(async () => {
    [gone, stays] = [await h.caller(), await h.caller()];
  });
  afterAll(async () => {
    await h.close();
  });

  const comment = (postId: string, caller: Caller) =>
    h.http.post(`/api/v1/posts/${postId}/comments`).set(caller.headers).send({ body: 'A comment.' }).expect(201);

  it('when a user is deleted, then their posts with every comment on them, and their comments elsewhere, are removed; the rest stays', async () => {
    const [theirs, theirDraft, others] = [
      await writePost(h, gone),
      await writePost(h, gone, { published: false }),
      await writePost(h, stays),
    ];
    await comment(theirs.id, stays);
    await comment(theirs.id, gone);
    await comment(others.id, gone);
    const kept = (await comment(others.id, stays)).body.id;

    await h.publishUserEvent(userDeleted(gone.id));

    await eventually(async () => (await h.db('posts').where({ author_id: gone.id })).length === 0, 10_000, 'their posts removed');
    expect(await h.db('posts').whereIn('id', [theirs.id, theirDraft.id])).toEqual([]);
    expect(await h.db('comments').where({ post_id: theirs.id })).toEqual([]);
    expect(await h.db('comments').where({ author_id: gone.id })).toEqual([]);
    expect((await h.db('comments').where({ post_id: others.id })).map((row) => row.id)).toEqual([kept]);
    await h.http.get(`/api/v1/posts/${others.id}`).expect(200);
    await h.http.get(`/api/v1/posts/${theirs.id}`).expect(404);
  });

  it('when the event comes again, then nothing more happens and nothing fails; the erasure is counted once', async () => {
    await writePost(h, gone);
    const before = await metric(h, 'posts_user_erasures_total');
    const event = userDeleted(gone.id);
    await h.publishUserEvent(event);
    await eventually(async () => (await h.db('deleted_authors').where({ id: gone.id })).length === 1, 10_000, 'the tombstone');
    await h.publishUserEvent(event);
    await h.publishUserEvent(userDeleted(gone.id));
    // A later event of the same user passes behind the repeats once they are applied.
    const marker = await h.caller();
    await h.publishUserEvent(userDeleted(marker.id));
    await eventually(async () => (await h.db('deleted_authors').where({ id: marker.id })).length === 1, 10_000, 'the marker');

    expect(await h.db('deleted_authors').where({ id: gone.id })).toHaveLength(1);
    expect(await metric(h, 'posts_user_erasures_total')).toBe(before + 2);
  });

  it('when a deleted user’s token is still used, then their writes are refused (404 account_not_found) and nothing of theirs comes back', async () => {
    const post = await writePost(h, stays);
    const own = await writePost(h, gone);
    await h.publishUserEvent(userDeleted(gone.id));
    await eventually(async () => (await h.db('deleted_authors').where({ id: gone.id })).length === 1, 10_000, 'the tombstone');

    const refused = await h.http.post('/api/v1/posts').set(gone.headers).send({ title: 'Back', body: 'From the dead.' }).expect(404);
    expect(refused.body.error).toBe('account_not_found');
    expect((await h.http.post(`/api/v1/posts/${post.id}/comments`).set(gone.headers).send({ body: 'x' }).expect(404)).body.error).toBe(
      'account_not_found',
    );
    await h.http.patch(`/api/v1/posts/${own.id}`).set(gone.headers).send({ title: 'x' }).expect(404);
    expect(await h.db('posts').where({ author_id: gone.id })).toEqual([]);
    expect(await h.db('outbox').where({ subject: gone.id, event_type: 'post.created' })).toHaveLength(1);
  });

  it('when posts are being written while the user is deleted, then none of them survives the erasure', async () => {
    const writes = Array.from({ length: 20 }, (_, i) =>
      h.http
        .post('/api/v1/posts')
        .set(gone.headers)
        .send({ title: `Race ${i}`, body: 'x', published: true }),
    );
    const erasure = h.publishUserEvent(userDeleted(gone.id));
    const answers = await Promise.all(writes);
    await erasure;
    expect(answers.every((answer) => answer.status === 201 || answer.status === 404)).toBe(true);
    await eventually(async () => (await h.db('deleted_authors').where({ id: gone.id })).length === 1, 10_000, 'the tombstone');
    await eventually(async () => (await h.db('posts').where({ author_id: gone.id })).length === 0, 10_000, 'no post left');
  });

  it('when events of other types or of posts itself arrive, then nothing is removed', async () => {
    const post = await writePost(h, stays);
    await h.publishUserEvent({ ...userDeleted(stays.id), source: 'posts' });
    await h.publishUserEvent({ ...userDeleted(stays.id), type: 'user.logged_out', data: { all_sessions: true } } as never);
    const marker = await h.caller();
    await h.publishUserEvent(userDeleted(marker.id));
    await eventually(async () => (await h.db('deleted_authors').where({ id: marker.id })).length === 1, 10_000, 'the marker');
    expect(await h.db('posts').where({ id: post.id })).toHaveLength(1);
  });
});

describe('posts on a real Kafka broker', () => {
  it('when users publishes user.deleted on Kafka, then the posts group reads it and erases, and posts’ own events reach the broker', async () => {
    const h = await startPosts({
      bus: null,
      env: { KAFKA_BROKERS: testKafkaBrokers().join(','), POSTS_CONSUMER_GROUP: `posts-${randomBytes(4).toString('hex')}` },
    });
    const producer = new KafkaEventBus({ brokers: testKafkaBrokers(), clientId: 'posts-test', logger: silentLogger });
    try {
      const author = await h.caller();
      const post = await writePost(h, author);
      await eventually(
        async () => (await h.db('outbox').whereRaw("envelope->'data'->>'post_id' = ?", [post.id]).whereNull('published_at')).length === 0,
        60_000,
        'the outbox relayed to Kafka',
      );
      const event = userDeleted(author.id);
      await producer.publish('user-events', [{ key: event.subject, value: JSON.stringify(event) }]);
      await eventually(async () => (await h.db('posts').where({ id: post.id })).length === 0, 90_000, 'the post erased');
      expect(await h.db('deleted_authors').where({ id: author.id })).toHaveLength(1);
    } finally {
      await producer.close();
      await h.close();
    }
  });
});
