/**
 * The platform as `npm start` starts it (apps/launcher/dist/all-in-one.js), on a free port with
 * a data folder of its own, and the addresses it prints: the app and the mail page (Mailpit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@galion/localdeps';

export interface AllInOne {
  url: string;
  mailUrl: string;
  admin: { email: string; password: string };
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');

export const startAllInOne = async (): Promise<AllInOne> => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'galion-web-'));
  const admin = { email: 'admin@galion.test', password: 'web-test-admin-password' };
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'apps/launcher/dist/all-in-one.js')], {
    env: { ...process.env, GALION_PORT: String(port), GALION_DATA_DIR: dataDir, GALION_ADMIN_EMAIL: admin.email, GALION_ADMIN_PASSWORD: admin.password, LOG_LEVEL: 'warn',
      // All the test's traffic comes from one address: the per-IP limit for credentials would refuse it.
      RATE_LIMIT_AUTH_PER_IP: '10000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (!/Press Ctrl-C to stop/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start's launcher exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the platform did not start within 120 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const mailUrl = /Mail:\s+(http:\/\/\S+)/.exec(output)?.[1];
  if (!mailUrl) {
    await stop();
    throw new Error(`no Mail: line in what npm start printed (is Mailpit built? scripts/install-mailpit.sh):\n${output}`);
  }
  return { url: `http://localhost:${port}`, mailUrl, admin, stop };
};
