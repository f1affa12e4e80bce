import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// Beside this file in dist/.
const SYNTHETIC = path.join(__dirname, 'synthetic-main.js');

/** Runs the synthetic-data tool (synthetic-main.ts, a separate process) and returns what it printed. */
export const synthetic = async (args: string[]): Promise<{ seconds: number }> => {
  const { stdout } = await promisify(execFile)(process.execPath, [SYNTHETIC, ...args], { maxBuffer: 1 << 20, timeout: 900_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number };
};
