import { spawn } from 'node:child_process';
import path from 'node:path';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const waitUntil = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
};

/**
 * A parent Node process that starts a long-running child, optionally ties it to its own life
 * with stopWithThisProcess, prints the child's pid and waits to be killed.
 */
const parentScript = (tie: boolean) => `
const { spawn } = require('node:child_process');
const { stopWithThisProcess } = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'processes.js'))});
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
${tie ? 'stopWithThisProcess(child);' : ''}
process.stdout.write(child.pid + '\\n');
setInterval(() => {}, 1000);
`;

/** Starts the parent (on the built package, as the launcher runs) and returns it with its child's pid. */
const startParent = async (tie: boolean) => {
  const parent = spawn(process.execPath, ['-e', parentScript(tie)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: path.resolve(__dirname, '..'),
  });
  const childPid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
  });
  return { parent, childPid };
};

describe('stopWithThisProcess', () => {
  test('when the parent is killed outright (SIGKILL), then its tied child is stopped; an untied one is not', async () => {
    const tied = await startParent(true);
    const untied = await startParent(false);
    try {
      tied.parent.kill('SIGKILL');
      untied.parent.kill('SIGKILL');
      expect(await waitUntil(() => !alive(tied.childPid), 10_000)).toBe(true);
      expect(alive(untied.childPid)).toBe(true);
    } finally {
      for (const pid of [tied.childPid, untied.childPid]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }, 30_000);
});
