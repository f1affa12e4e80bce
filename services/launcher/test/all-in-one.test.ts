import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@galion/localdeps';

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
      if (url) resolve({ child, output: () => output, url });
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

const json = async (url: string, init: RequestInit & { body?: string } = {}) => {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

describe('npm start (all-in-one)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-aio-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when started on a fresh data folder, then the README walkthrough works and data survives a restart', async () => {
    const port = await freePort();
    const env = { GALION_DATA_DIR: dataDir, GALION_PORT: String(port) };
    const first = await startPlatform(env);
    expect(first.url).toBe(`http://localhost:${port}`);
    expect(first.output()).toMatch(/Admin: +admin@galion\.local \/ \S+/);
    const base = `http://127.0.0.1:${port}/api/v1/auth`;

    expect((await json(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const user = { email: 'walkthrough@example.com', password: 'a long enough passphrase', name: 'Walk Through' };
    expect((await json(`${base}/register`, { method: 'POST', body: JSON.stringify(user) })).status).toBe(201);
    const login = await json(`${base}/login`, { method: 'POST', body: JSON.stringify({ email: user.email, password: user.password }) });
    expect(login.status).toBe(200);
    const auth = { authorization: `Bearer ${login.body.access_token}` };
    expect((await json(`${base}/me`, { headers: auth })).body.email).toBe(user.email);
    const refreshed = await json(`${base}/refresh`, { method: 'POST', body: JSON.stringify({ refresh_token: login.body.refresh_token }) });
    expect(refreshed.status).toBe(200);
    expect((await json(`${base}/logout`, { method: 'POST', headers: auth, body: '{}' })).status).toBe(204);
    expect((await json(`${base}/me`, { headers: auth })).status).toBe(401);
    const kept = await json(`${base}/login`, { method: 'POST', body: JSON.stringify({ email: user.email, password: user.password }) });
    expect(await stop(first)).toBe(0);

    const second = await startPlatform(env);
    try {
      expect(second.output()).toMatch(/Admin: +admin@galion\.local\n/);
      expect(second.output()).not.toContain('shown once');
      const again = await json(`${base}/login`, { method: 'POST', body: JSON.stringify({ email: user.email, password: user.password }) });
      expect(again.status).toBe(200);
      // The signing key persisted too: a token from before the restart still verifies.
      expect((await json(`${base}/me`, { headers: { authorization: `Bearer ${kept.body.access_token}` } })).status).toBe(200);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 120_000);
});
