import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export const ANALYTICS_DIST = path.resolve(__dirname, '..', '..', '..', 'services', 'analytics', 'dist');
const SYNTHETIC = path.join(ANALYTICS_DIST, 'synthetic-main.js');

/** Runs the analytics synthetic-data tool (a separate process) and returns what it printed. */
export const synthetic = async (args: string[]): Promise<{ seconds: number }> => {
  const { stdout } = await promisify(execFile)(process.execPath, [SYNTHETIC, ...args], { maxBuffer: 1 << 20, timeout: 900_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number };
};
