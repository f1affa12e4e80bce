import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, freePort } from '@galion/localdeps';

const MAIN = path.resolve(__dirname, '..', 'dist', 'all-in-one.js');

interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** Starts the all-in-one platform as `npm start` does, and waits for its banner. */
const startPlatform = (env: Record<string, string>): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Galion is running at (\S+)/.exec(output)?.[1];
      if (url) {
        const running = { child, output: () => output, url };
        started.push(running);
        resolve(running);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`all-in-one exited with ${code}:\n${output}`)));
  });

const stop = (running: Running) =>
  new Promise<number | null>((resolve) => {
    running.child.once('exit', (code) => resolve(code));
    running.child.kill('SIGINT');
  });

const call = async (url: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
  const response = await fetch(url, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const started: Running[] = [];

/** A 1 × 1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PNG_SIGNATURE = PNG.subarray(0, 8);

describe('npm start (all-in-one)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-aio-'));
  afterAll(() => {
    // A failed assertion must not leave the platform running.
    for (const running of started) running.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when started on a fresh data folder, then the README walkthrough works end to end and data survives a restart', async () => {
    const port = await freePort();
    const env = { GALION_DATA_DIR: dataDir, GALION_PORT: String(port) };
    const first = await startPlatform(env);
    expect(first.url).toBe(`http://localhost:${port}`);
    const adminPassword = /Admin: +admin@galion\.local \/ (\S+)/.exec(first.output())?.[1];
    expect(first.output()).toContain(`API:        http://localhost:${port}/api/v1/{auth,users,analytics,posts,feed,media}`);
    expect(first.output()).toMatch(/Feed: +Redis redis:\/\/127\.0\.0\.1:\d+ /);
    expect(adminPassword).toBeDefined();
    const api = `http://127.0.0.1:${port}/api/v1`;

    expect((await call(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const user = { email: 'walkthrough@example.com', password: 'a long enough passphrase', name: 'Walk Through' };
    const registered = await call(`${api}/auth/register`, { body: user });
    expect(registered.status).toBe(201);
    const login = await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    expect((await call(`${api}/users/me`, { token })).body).toMatchObject({ email: user.email, name: 'Walk Through' });
    expect((await call(`${api}/users/me`, { method: 'PATCH', token, body: { bio: 'Hello from the walkthrough' } })).status).toBe(200);
    const post = await call(`${api}/posts`, {
      token,
      body: { title: 'Walkthrough', body: 'Posted from the walkthrough.', published: true },
    });
    expect(post.status).toBe(201);
    expect((await call(`${api}/posts/${post.body.id}`)).body).toMatchObject({ title: 'Walkthrough', author_id: registered.body.id });

    // An image, kept in a folder of the data folder: uploaded through the gateway, and read with a
    // signed URL that needs no token (on the public URL).
    const upload = await fetch(`${api}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
      body: PNG,
    });
    expect(upload.status).toBe(201);
    const image = (await upload.json()) as { id: string; content_type: string; width: number };
    expect(image).toMatchObject({ content_type: 'image/png', width: 1 });
    expect(existsSync(path.join(dataDir, 'media', 'objects', 'media', image.id))).toBe(true);
    const signed = (await call(`${api}/media/${image.id}/url`, { token })).body.url as string;
    expect(signed).toMatch(new RegExp(`^http://localhost:${port}/api/v1/media/signed\\?`));
    const viaSigned = await fetch(signed.replace('localhost', '127.0.0.1'));
    expect(viaSigned.status).toBe(200);
    expect(Buffer.from(await viaSigned.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);

    // The feed, on its own redis-server: a reader follows the walkthrough user, who posts again;
    // both posts reach the reader's home feed (the follow copies the first), and the global feed.
    const reader = { email: 'reader@example.com', password: 'a long enough passphrase', name: 'Reader' };
    expect((await call(`${api}/auth/register`, { body: reader })).status).toBe(201);
    const readerToken = (await call(`${api}/auth/login`, { body: { email: reader.email, password: reader.password } })).body
      .access_token as string;
    // Once users has made both profiles from the registration events.
    await eventually(
      async () => (await call(`${api}/users/${registered.body.id}/follow`, { method: 'PUT', token: readerToken })).status === 200,
      20_000,
      'the follow',
    );
    const secondPost = await call(`${api}/posts`, {
      token,
      body: { title: 'For my readers', body: 'Seen in a home feed.', published: true },
    });
    expect(secondPost.status).toBe(201);
    const homeFeed = async () =>
      ((await call(`${api}/feed/home`, { token: readerToken })).body?.items ?? []).map((item: { post_id: string }) => item.post_id);
    await eventually(
      async () => {
        const ids = await homeFeed();
        return ids.includes(secondPost.body.id) && ids.includes(post.body.id);
      },
      20_000,
      'both posts in the home feed',
    );
    expect(await homeFeed()).toEqual([secondPost.body.id, post.body.id]);
    expect((await call(`${api}/feed/home`)).status).toBe(401);
    const global = await call(`${api}/feed/global`);
    expect(global.status).toBe(200);
    expect(global.body.items.map((item: { post_id: string }) => item.post_id)).toEqual(
      expect.arrayContaining([secondPost.body.id, post.body.id]),
    );

    const admin = await call(`${api}/auth/login`, { body: { email: 'admin@galion.local', password: adminPassword } });
    expect(admin.status).toBe(200);
    const adminToken = admin.body.access_token as string;
    await eventually(
      async () => {
        const events = await call(`${api}/analytics/users/${registered.body.id}/events`, { token: adminToken });
        const types = (events.body?.events ?? []).map((event: { type: string }) => event.type);
        return ['user.registered', 'user.logged_in', 'user.updated'].every((type) => types.includes(type));
      },
      20_000,
      'the walkthrough events in analytics',
    );
    expect((await call(`${api}/users?q=walk`, { token: adminToken })).body.items).toHaveLength(1);
    expect((await call(`${api}/analytics/summary`, { token: adminToken })).status).toBe(200);
    const docs = await fetch(`http://127.0.0.1:${port}/docs`);
    expect(docs.status).toBe(200);
    const openapi = await call(`${api}/openapi.json`);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/users/me', '/api/v1/analytics/summary', '/api/v1/posts/{id}']),
    );

    const refreshed = await call(`${api}/auth/refresh`, { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect((await call(`${api}/auth/logout`, { token, body: {} })).status).toBe(204);
    expect((await call(`${api}/users/me`, { token })).status).toBe(401);
    const kept = await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } });
    expect(await stop(first)).toBe(0);

    const second = await startPlatform(env);
    try {
      expect(second.output()).toMatch(/Admin: +admin@galion\.local\n/);
      expect(second.output()).not.toContain('shown once');
      expect((await call(`${api}/auth/login`, { body: { email: user.email, password: user.password } })).status).toBe(200);
      // The signing key persisted too: a token from before the restart still verifies.
      const me = await call(`${api}/users/me`, { token: kept.body.access_token });
      expect(me.status).toBe(200);
      expect(me.body.bio).toBe('Hello from the walkthrough');
      expect((await call(`${api}/posts/${post.body.id}`)).status).toBe(200);
      // The image is kept, and so is the key of its signed URLs: the one from before the restart still reads it.
      expect((await call(`${api}/media/${image.id}`, { token: kept.body.access_token })).body.id).toBe(image.id);
      const signedAgain = await fetch(signed.replace('localhost', '127.0.0.1'));
      expect(signedAgain.status).toBe(200);
      expect(Buffer.from(await signedAgain.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);
      // The feed's Redis is kept in the data folder too.
      expect(second.output()).toMatch(/Feed: +Redis redis:\/\/127\.0\.0\.1:\d+ /);
      const readerAgain = await call(`${api}/auth/login`, { body: { email: reader.email, password: reader.password } });
      const home = await call(`${api}/feed/home`, { token: readerAgain.body.access_token });
      expect(home.body.items.map((item: { post_id: string }) => item.post_id)).toEqual([secondPost.body.id, post.body.id]);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 150_000);
});
