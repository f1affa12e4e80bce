import { spawn, type ChildProcess } from 'node:child_process';
import { stopWithThisProcess } from '@galion/localdeps';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items`, `parallelism` at a time. */
export const pooled = async <T, R>(items: T[], parallelism: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallelism, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
};

/**
 * Closed-loop load: `concurrency` clients each send the next request as soon as the last one
 * answers, for `seconds`. A warm-up runs first and is not counted.
 */
export const runLoad = async (
  options: { concurrency: number; seconds: number; warmupSeconds?: number },
  request: (client: number) => Promise<boolean>,
): Promise<LoadResult> => {
  const phase = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: options.concurrency }, async (_, client) => {
        while (performance.now() < deadline) {
          const started = performance.now();
          const ok = await request(client).catch(() => false);
          if (!record) continue;
          latencies.push(performance.now() - started);
          if (!ok) errors += 1;
        }
      }),
    );
    return { latencies, errors };
  };
  await phase(options.warmupSeconds ?? 1, false);
  const started = performance.now();
  const { latencies, errors } = await phase(options.seconds, true);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
};

/** Runs `work` as often as it can for `seconds` on this thread; returns operations per second. */
export const opsPerSecond = async (seconds: number, work: () => Promise<unknown>): Promise<number> => {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    await work();
    count += 1;
  }
  return count / ((performance.now() - started) / 1000);
};

/**
 * Starts a Node program as a separate process (so load and server do not share a thread) and
 * waits until `readyUrl` answers 200. Its output is kept to explain a failed start.
 */
export const startProcess = async (
  script: string,
  env: Record<string, string>,
  readyUrl: string,
  timeoutMs = 30_000,
): Promise<ChildProcess> => {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  stopWithThisProcess(child, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}: ${output}`);
    if (
      (await fetch(readyUrl)
        .then((response) => response.status)
        .catch(() => 0)) === 200
    )
      return child;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${script} was not ready within ${timeoutMs} ms: ${output}`);
};

export const stopProcess = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export const fmt = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const row = (cells: (string | number)[], widths: number[]): string =>
  cells.map((cell, i) => String(cell).padEnd(widths[i] ?? 12)).join(' ');

/** How often each name occurs, most frequent first (`201 ×950, 503 overloaded ×3`); undefined ones are not counted. */
export const tally = (names: Iterable<string | undefined>): string => {
  const counts = new Map<string, number>();
  for (const name of names) if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ×${fmt(count)}`)
    .join(', ');
};

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export const statsOf = (values: number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length),
  };
};

/** Polls `probe` every `everyMs` until it gives a value; fails, naming `what`, after `timeoutMs`. */
export const waitFor = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 100): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
};
