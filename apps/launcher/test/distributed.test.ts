import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase } from '@galion/kit';
import { eventually } from '@galion/localdeps';
import { startPlatform, type Platform } from '../src/platform';

const admin = { email: 'e2e-admin@example.com', password: 'e2e admin passphrase' };
const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-e2e-'));
let platform: Platform;
let api: string;

const call = async (url: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
  const response = await fetch(url, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
};

/** A 1 × 1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const eventTypes = async (userId: string, token: string): Promise<string[]> => {
  const response = await call(`${api}/analytics/users/${userId}/events?limit=100`, { token });
  return (response.body?.events ?? []).map((event: { type: string }) => event.type);
};

beforeAll(async () => {
  platform = await startPlatform({
    dataDir,
    admin,
    output: 'ignore',
    env: { LOG_LEVEL: 'warn', OUTBOX_POLL_INTERVAL_MS: '50' },
    // The suite registers and logs in more often from this one address than the gateway's per-IP
    // limit of credential calls allows (20 a minute); that limit is tested in services/gateway.
    serviceEnv: { gateway: { RATE_LIMIT_AUTH_PER_IP: '200' } },
  });
  api = `${platform.gatewayUrl.replace('localhost', '127.0.0.1')}/api/v1`;
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the platform in distributed mode, through the gateway, on real PostgreSQL, Redis and Kafka', () => {
  it('when a user goes from registration to deletion, then every service and analytics agree at each step', async () => {
    const user = { email: `e2e.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'End To End' };
    const registered = await call(`${api}/auth/register`, { body: user });
    expect(registered.status).toBe(201);
    const id = registered.body.id as string;
    const login = await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    expect(login.headers.get('x-request-id')).toBeTruthy();
    const token = login.body.access_token as string;

    const me = await call(`${api}/users/me`, { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id, email: user.email, name: 'End To End' });
    expect(
      (await call(`${api}/users/me`, { method: 'PATCH', token, body: { bio: 'written end to end', timezone: 'Europe/Paris' } })).status,
    ).toBe(200);

    const adminLogin = await call(`${api}/auth/login`, { body: admin });
    const adminToken = adminLogin.body.access_token as string;
    await eventually(
      async () => {
        const types = await eventTypes(id, adminToken);
        return ['user.registered', 'user.logged_in', 'user.updated'].every((type) => types.includes(type));
      },
      30_000,
      'registered, logged_in and updated in analytics',
    );
    // Exactly once: at-least-once delivery through Kafka, one row per event.
    const types = await eventTypes(id, adminToken);
    expect(types.filter((type) => type === 'user.registered')).toHaveLength(1);
    expect(types.filter((type) => type === 'user.logged_in')).toHaveLength(1);

    const listed = await call(`${api}/users?q=e2e.`, { token: adminToken });
    expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(id);

    expect((await call(`${api}/users/${id}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    expect((await call(`${api}/users/me`, { token })).status).toBe(401);
    expect((await call(`${api}/auth/refresh`, { body: { refresh_token: login.body.refresh_token } })).status).toBe(401);
    await eventually(
      async () => (await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } })).status === 401,
      20_000,
      'auth to remove the account',
    );
    await eventually(async () => (await eventTypes(id, adminToken)).includes('user.deleted'), 30_000, 'user.deleted in analytics');
  }, 120_000);

  it('when a user writes posts and comments through the gateway, then anyone reads what is published, analytics counts it, and deleting the user removes it', async () => {
    const adminToken = (await call(`${api}/auth/login`, { body: admin })).body.access_token as string;
    const user = { email: `poster.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'Poster' };
    const id = (await call(`${api}/auth/register`, { body: user })).body.id as string;
    const token = (await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } })).body.access_token as string;

    const post = await call(`${api}/posts`, { token, body: { title: 'Distributed words', body: 'Written end to end.', published: true } });
    expect(post.status).toBe(201);
    const draft = await call(`${api}/posts`, { token, body: { title: 'Not yet', body: 'A draft.' } });
    expect((await call(`${api}/posts/${post.body.id}/comments`, { token, body: { body: 'A comment.' } })).status).toBe(201);

    // Public reads pass the gateway without a token; a draft is not found by anyone else.
    const read = await call(`${api}/posts/${post.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('public, max-age=60');
    const again = await fetch(`${api}/posts/${post.body.id}`, { headers: { 'if-none-match': read.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await call(`${api}/posts/${draft.body.id}`)).status).toBe(404);
    expect((await call(`${api}/posts/${draft.body.id}`, { token })).status).toBe(200);
    expect((await call(`${api}/posts/search?q=distributed`)).body.items.map((item: { id: string }) => item.id)).toEqual([post.body.id]);
    expect((await call(`${api}/posts/mine`)).status).toBe(401);
    expect((await call(`${api}/posts`, { body: { title: 'x', body: 'x' } })).status).toBe(401);

    await eventually(
      async () => {
        const types = await eventTypes(id, adminToken);
        return ['post.created', 'post.published', 'comment.created'].every((type) => types.includes(type));
      },
      30_000,
      'the post events in analytics',
    );

    expect((await call(`${api}/users/${id}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    await eventually(async () => (await call(`${api}/posts/${post.body.id}`)).status === 404, 30_000, 'the post erased');
  }, 120_000);

  it('when a user follows an author who then publishes, then the post reaches their home feed and the global feed through the gateway, and leaves them when deleted', async () => {
    const register = async (name: string) => {
      const user = { email: `${name.toLowerCase()}.${Date.now()}@example.com`, password: 'a long enough passphrase', name };
      const id = (await call(`${api}/auth/register`, { body: user })).body.id as string;
      const token = (await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } })).body.access_token as string;
      return { id, token };
    };
    const author = await register('Author');
    const reader = await register('Reader');
    // Once users has made the profiles from the registration events.
    await eventually(
      async () => (await call(`${api}/users/${author.id}/follow`, { method: 'PUT', token: reader.token })).status === 200,
      30_000,
      'the follow',
    );
    const post = await call(`${api}/posts`, {
      token: author.token,
      body: { title: 'Fanned out', body: 'From posts through Kafka to the feed.', tags: ['feed'], published: true },
    });
    expect(post.status).toBe(201);

    const home = async (token: string) => (await call(`${api}/feed/home`, { token })).body as { items: { post_id: string }[] };
    await eventually(
      async () => (await home(reader.token)).items.some((item) => item.post_id === post.body.id),
      30_000,
      'the post in the home feed',
    );
    expect((await home(reader.token)).items[0]).toMatchObject({ kind: 'post', actor_id: author.id, title: 'Fanned out', tags: ['feed'] });
    // The author's own home feed has not their post; the global feed, public, has it.
    expect((await home(author.token)).items.map((item) => item.post_id)).not.toContain(post.body.id);
    const global = await call(`${api}/feed/global?limit=100`);
    expect(global.status).toBe(200);
    expect(global.body.items.map((item: { post_id: string }) => item.post_id)).toContain(post.body.id);
    expect((await call(`${api}/feed/home`)).status).toBe(401);

    expect((await call(`${api}/posts/${post.body.id}`, { method: 'DELETE', token: author.token })).status).toBe(204);
    await eventually(
      async () => !(await home(reader.token)).items.some((item) => item.post_id === post.body.id),
      30_000,
      'the deleted post out of the home feed',
    );
  }, 120_000);

  it('when a user uploads images through the gateway, then media keeps them (in versitygw when built), serves them and their thumbnails, analytics counts its events, and deleting the user removes them', async () => {
    const adminToken = (await call(`${api}/auth/login`, { body: admin })).body.access_token as string;
    const user = { email: `pictures.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'Pictures' };
    const id = (await call(`${api}/auth/register`, { body: user })).body.id as string;
    const token = (await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } })).body.access_token as string;
    const upload = (body: Buffer, type = 'image/png') =>
      fetch(`${api}/media`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });

    const stored = await upload(PNG);
    expect(stored.status).toBe(201);
    const image = (await stored.json()) as { id: string };
    const kept = (await (await upload(PNG)).json()) as { id: string };
    const thumbnail = await fetch(`${api}/media/${image.id}/content?size=small`, { headers: { authorization: `Bearer ${token}` } });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    // A URL that reads it without a token: the S3 server's own (presigned), or media's signed one on disk.
    const url = (await call(`${api}/media/${image.id}/url`, { token })).body.url as string;
    if (platform.s3) expect(url.startsWith(platform.s3.endpoint)).toBe(true);
    expect((await fetch(url.replace('localhost', '127.0.0.1'))).status).toBe(200);
    // Past the gateway's BODY_LIMIT yet within the upload's own limit: the body reaches media, which reads its bytes.
    const junk = await upload(Buffer.alloc(300_000, 0x41));
    expect({ status: junk.status, error: ((await junk.json()) as { error: string }).error }).toEqual({
      status: 415,
      error: 'unsupported_image',
    });
    expect((await call(`${api}/media`)).status).toBe(401);

    expect((await call(`${api}/media/${image.id}`, { method: 'DELETE', token })).status).toBe(204);
    await eventually(
      async () => {
        const types = await eventTypes(id, adminToken);
        return types.filter((type) => type === 'media.uploaded').length === 2 && types.includes('media.deleted');
      },
      30_000,
      'the media events in analytics',
    );

    expect((await call(`${api}/users/${id}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    const db = createDatabase({ url: platform.databaseUrl('media'), poolMax: 1 });
    try {
      await eventually(async () => (await db('media').where({ id: kept.id })).length === 0, 30_000, 'the images erased');
    } finally {
      await db.destroy();
    }
  }, 120_000);

  it('when a user reads someone else’s analytics, then 403; without a token the gateway answers 401 itself', async () => {
    const a = await call(`${api}/auth/register`, {
      body: { email: `a.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'A' },
    });
    const b = { email: `b.${Date.now()}@example.com`, password: 'a long enough passphrase', name: 'B' };
    await call(`${api}/auth/register`, { body: b });
    const tokenB = (await call(`${api}/auth/login`, { body: { email: b.email, password: b.password } })).body.access_token;
    expect((await call(`${api}/analytics/users/${a.body.id}/events`, { token: tokenB })).status).toBe(403);
    const anonymous = await call(`${api}/users/me`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('token_missing');
  });

  it('when Kafka is down while users register, then the API keeps answering and every event reaches analytics once after it returns', async () => {
    const adminToken = (await call(`${api}/auth/login`, { body: admin })).body.access_token as string;
    await platform.kafka.stop();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 10; i += 1) {
        const response = await call(`${api}/auth/register`, {
          body: { email: `outage${i}.${Date.now()}@example.com`, password: 'a long enough passphrase', name: `Outage ${i}` },
        });
        expect(response.status).toBe(201);
        ids.push(response.body.id);
      }
      expect(await eventTypes(ids[0]!, adminToken)).toEqual([]);
    } finally {
      await platform.kafka.start();
    }
    await eventually(
      async () => (await Promise.all(ids.map((id) => eventTypes(id, adminToken)))).every((types) => types.includes('user.registered')),
      90_000,
      'the registrations in analytics',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const id of ids) expect((await eventTypes(id, adminToken)).filter((type) => type === 'user.registered')).toHaveLength(1);
  }, 150_000);
});
