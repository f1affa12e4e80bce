import { cpus } from 'node:os';
import type { Platform } from '@galion/launcher';
import { fmt } from './load.js';
import { sumOf } from './platform-api.js';
import { machineCoresBetween, machineCpu, serverCpu, serverCpuBetween, type ServerCpu } from './process-cpu.js';

/**
 * Where the CPU goes during a phase of a bench on the distributed platform: each service's
 * process_cpu_seconds_total, the servers this process started (from /proc), the load generator's
 * own, and the whole machine's; and the services' histograms between two snapshots.
 */

/** Every service's /metrics text and what each process has spent of the CPU so far. */
export interface Snapshot {
  at: number;
  texts: Record<string, string>;
  /** CPU seconds so far of each service (its process_cpu_seconds_total) and of the load generator. */
  cpu: Record<string, number>;
  servers: ServerCpu;
  machine: { busy: number; total: number };
}

export const snapshot = async (platform: Platform): Promise<Snapshot> => {
  const texts = Object.fromEntries(
    await Promise.all(
      Object.values(platform.services).map(
        async (service) => [service.name, await (await fetch(`${service.url}/metrics`)).text().catch(() => '')] as const,
      ),
    ),
  );
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    texts,
    cpu: {
      ...Object.fromEntries(Object.entries(texts).map(([name, text]) => [name, sumOf(text, 'process_cpu_seconds_total')])),
      'load generator': (own.user + own.system) / 1e6,
    },
    servers: serverCpu(),
    machine: machineCpu(),
  };
};

/** CPU seconds each process spent between two snapshots, and the cores the whole machine kept busy. */
export interface Usage {
  seconds: number;
  cpu: Record<string, number>;
  machineCores: number;
}

export const usageBetween = (before: Snapshot, after: Snapshot): Usage => ({
  seconds: (after.at - before.at) / 1000,
  cpu: {
    // A service restarted in between (the feed) counts from zero again.
    ...Object.fromEntries(
      Object.keys(after.cpu).map((name) => {
        const delta = after.cpu[name]! - (before.cpu[name] ?? 0);
        return [name, delta < 0 ? after.cpu[name]! : delta];
      }),
    ),
    ...serverCpuBetween(before.servers, after.servers),
  },
  machineCores: machineCoresBetween(before.machine, after.machine),
});

/** The processes that kept at least 0.5% of a core busy, busiest first. */
const busiest = (usage: Usage): [string, number][] =>
  Object.entries(usage.cpu)
    .filter(([, seconds]) => seconds / usage.seconds >= 0.005)
    .sort((a, b) => b[1] - a[1]);

/** The cores each busy process kept busy on average, and the whole machine's. */
export const coresText = (usage: Usage): string =>
  `${busiest(usage)
    .map(([name, seconds]) => `${name} ${fmt(seconds / usage.seconds, 2)}`)
    .join(', ')}; the whole machine ${fmt(usage.machineCores, 2)} of ${cpus().length}`;

/** CPU time per operation of each busy process and of all of them, in µs (or ms, for operations that take that long). */
export const cpuPerText = (usage: Usage, count: number, unit: 'µs' | 'ms' = 'µs'): string => {
  const all = Object.values(usage.cpu).reduce((sum, seconds) => sum + seconds, 0);
  const scale = unit === 'µs' ? 1e6 : 1e3;
  return `${busiest(usage)
    .filter(([, seconds]) => seconds / usage.seconds >= 0.05)
    .map(([name, seconds]) => `${name} ${fmt((seconds * scale) / Math.max(1, count), 0)}`)
    .join(', ')}; all processes ${fmt((all * scale) / Math.max(1, count), 0)} ${unit}`;
};

/** The mean (ms) of a histogram's observations between two snapshots, in one service's metrics. */
export const meanMsOf = (before: string, after: string, name: string, having: string[]): number => {
  const sum = sumOf(after, `${name}_sum`, having) - sumOf(before, `${name}_sum`, having);
  const count = sumOf(after, `${name}_count`, having) - sumOf(before, `${name}_count`, having);
  return count > 0 ? (sum / count) * 1000 : NaN;
};

/** meanMsOf in one service's metrics of two snapshots. */
export const meanMs = (before: Snapshot, after: Snapshot, service: string, name: string, having: string[]): number =>
  meanMsOf(before.texts[service] ?? '', after.texts[service] ?? '', name, having);

/**
 * A quantile (0–1, ms) of a histogram's observations between two /metrics texts, interpolated
 * within its buckets as Prometheus' histogram_quantile does: an estimate, as fine as the buckets;
 * Infinity when it lies past the last finite bound.
 */
export const histogramQuantileMsOf = (before: string, after: string, name: string, quantile: number, having: string[] = []): number => {
  const bounds = [...new Set([...after.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"`, 'gm'))].map((match) => match[1]!))];
  const buckets = bounds
    .map((le) => ({
      le: le === '+Inf' ? Infinity : Number(le),
      count: sumOf(after, `${name}_bucket`, [...having, `le="${le}"`]) - sumOf(before, `${name}_bucket`, [...having, `le="${le}"`]),
    }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = quantile * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      // Past the last finite bound there is nothing to interpolate to (Prometheus answers that bound, which reads as a measurement).
      if (le === Infinity) return Infinity;
      return (lower + ((le - lower) * (rank - below)) / Math.max(1, count - below)) * 1000;
    }
    lower = le;
    below = count;
  }
  return NaN;
};

/** How many samples of `name` (a counter, or a histogram's `_count`) each value of `label` gained between two /metrics texts, as a tally: `201 ×21, 408 ×79`. */
export const labelCountsOf = (before: string, after: string, name: string, label: string, having: string[] = []): string => {
  const values = [...new Set([...after.matchAll(new RegExp(`^${name}\\{[^}]*${label}="([^"]+)"`, 'gm'))].map((match) => match[1]!))];
  // Values on lines without every one of `having` sum to nothing, and are left out.
  return values
    .map(
      (value) =>
        [value, sumOf(after, name, [...having, `${label}="${value}"`]) - sumOf(before, name, [...having, `${label}="${value}"`])] as const,
    )
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([value, count]) => `${value} ×${fmt(count)}`)
    .join(', ');
};
