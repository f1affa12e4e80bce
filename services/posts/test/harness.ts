import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createEvent, InProcessEventBus, USER_EVENTS_TOPIC, type EventBus, type EventEnvelope } from '@galion/events';
import { createDatabase, createLogger, MemoryStore, type Knex } from '@galion/kit';
import { eventually, testDatabase } from '@galion/localdeps';
import { StaticKeySource, StoreDenylist, TokenVerifier } from '@galion/tokens';
import { SignJWT } from 'jose';
import supertest from 'supertest';
import { loadPostsConfig } from '../src/config';
import { composePosts, type ComposedPosts } from '../src/service';

export const ISSUER = 'https://api.example.test/api/v1/auth';
export const silentLogger = createLogger({ service: 'posts-test', level: 'silent' });

/** An Ed25519 key of the test's own, a verifier that trusts it (and reads the denylist of `store`), and tokens signed with it. */
const testTokens = async (store: MemoryStore) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  const verifier = new TokenVerifier({
    keys: await StaticKeySource.fromJwks({ keys: [jwk as never] }),
    issuer: ISSUER,
    audience: 'galion',
    denylist: new StoreDenylist(store),
  });
  const sign = (sub: string, role: 'user' | 'admin') =>
    new SignJWT({ role })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience('galion')
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { verifier, sign };
};

/** A signed-in caller: their id and the headers of their requests. */
export interface Caller {
  id: string;
  headers: { Authorization: string };
}

export interface PostsHarness {
  service: ComposedPosts;
  http: ReturnType<typeof supertest>;
  db: Knex;
  bus: EventBus;
  /** A new user (or admin) with a token. */
  caller(role?: 'user' | 'admin'): Promise<Caller>;
  /** Publishes an event of another service on the user-events topic, as users would. */
  publishUserEvent(event: EventEnvelope): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** The bus to use (a real Kafka one); an in-process bus otherwise. `null`: no bus at all. */
  bus?: EventBus | null;
}

/**
 * Posts in-process on a fresh database of the shared test PostgreSQL, with tokens of its own, the
 * denylist in memory and an in-process bus (or the one given): its outbox relay publishes to it
 * and its consumer reads user events from it.
 */
export const startPosts = async (options: HarnessOptions = {}): Promise<PostsHarness> => {
  const database = await testDatabase('posts');
  const store = new MemoryStore();
  const tokens = await testTokens(store);
  const bus = options.bus === null ? undefined : (options.bus ?? new InProcessEventBus());
  const service = await composePosts(
    loadPostsConfig({
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'silent',
      OUTBOX_POLL_INTERVAL_MS: '20',
      // Every answer is held to its route's declaration (a 500 otherwise).
      API_CHECK_RESPONSES: 'true',
      ...options.env,
    }),
    { logger: silentLogger, store, bus, verifier: tokens.verifier, createDatabase: true },
  ).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  const db = createDatabase({ url: database.url, poolMax: 4 });
  return {
    service,
    http: supertest(service.app),
    db,
    bus: bus!,
    caller: async (role = 'user') => {
      const id = randomUUID();
      return { id, headers: { Authorization: `Bearer ${await tokens.sign(id, role)}` } };
    },
    publishUserEvent: (event) => bus!.publish(USER_EVENTS_TOPIC, [{ key: event.subject, value: JSON.stringify(event) }]),
    async close() {
      for (const closer of [...service.closers].reverse()) await closer.close();
      if (bus && !options.bus) await (bus as InProcessEventBus).close();
      await store.close();
      await db.destroy();
      await database.drop();
    },
  };
};

/** A user.deleted event as users writes it. */
export const userDeleted = (userId: string, deletedBy = userId): EventEnvelope =>
  createEvent('user.deleted', { source: 'users', subject: userId, data: { deleted_by: deletedBy } });

export interface NewPost {
  title?: string;
  body?: string;
  tags?: string[];
  published?: boolean;
}

/** Writes a post as `caller`; returns its body. */
export const writePost = async (h: PostsHarness, caller: Caller, post: NewPost = {}) =>
  (
    await h.http
      .post('/api/v1/posts')
      .set(caller.headers)
      .send({ title: 'A title', body: 'Some text.', published: true, ...post })
      .expect(201)
  ).body as { id: string; author_id: string; published: boolean; published_at: string | null; title: string; tags: string[] };

/** The events of the outbox about a post or a comment (data.post_id or data.comment_id), oldest first. */
export const outboxEvents = async (h: PostsHarness, filter: { postId?: string; commentId?: string }) => {
  const rows: { event_type: string; subject: string; envelope: EventEnvelope }[] = await h
    .db('outbox')
    .modify((builder) => {
      if (filter.postId) builder.whereRaw("envelope->'data'->>'post_id' = ?", [filter.postId]);
      if (filter.commentId) builder.whereRaw("envelope->'data'->>'comment_id' = ?", [filter.commentId]);
    })
    .orderBy('position');
  return rows.map((row) => ({ type: row.event_type, subject: row.subject, data: row.envelope.data as Record<string, unknown> }));
};

/** The ids of every item of a list, page by page, following next_cursor. */
export const everyPage = async (h: PostsHarness, path: string, query: Record<string, string | number> = {}, caller?: Caller) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const request = h.http.get(path).query({ ...query, ...(cursor ? { cursor } : {}) });
    if (caller) request.set(caller.headers);
    const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await request.expect(200);
    ids.push(...page.body.items.map((item) => item.id));
    cursor = page.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 1_000);
  return ids;
};

export { eventually };

export const NO_SUCH_ID = '00000000-0000-7000-8000-000000000000';
