import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const fixture = path.join(__dirname, 'fixtures', 'slow-server.cjs');

const startFixture = (env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; url: string; output: () => string }>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/[\d.:]+/.exec(output)?.[0];
      if (url) resolve({ child, url, output: () => output });
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });

const exitCode = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('graceful shutdown', () => {
  it('when SIGTERM arrives during a request, then the request completes, new connections are refused and the process exits 0', async () => {
    const { child, url, output } = await startFixture({ SLOW_MS: '800' });
    const exited = exitCode(child);
    const inFlight = fetch(`${url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    expect(await exited).toBe(0);
    expect(output()).toContain('closed-clients');
  });

  it('when draining with a delay, then readiness turns false while requests are still served', async () => {
    const { child, url } = await startFixture({ DRAIN_MS: '1500', SLOW_MS: '10' });
    const exited = exitCode(child);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const readiness = await fetch(`${url}/readyz`);
    expect(readiness.status).toBe(503);
    expect((await readiness.json()).checks.shutdown).toMatch(/draining/);
    expect((await fetch(`${url}/slow`)).status).toBe(200);
    expect(await exited).toBe(0);
  });
});
