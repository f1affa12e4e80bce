import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The servers a bench starts beside the services, named as the figures name them (versitygw: the S3 store). */
type ServerKind = 'postgres' | 'kafka' | 'redis' | 'versitygw';

const kindOf = (command: string): ServerKind | undefined =>
  command.startsWith('postgres')
    ? 'postgres'
    : command === 'java'
      ? 'kafka'
      : command.startsWith('redis')
        ? 'redis'
        : command.startsWith('versitygw')
          ? 'versitygw'
          : undefined;

/** CPU seconds so far of each server process, keyed by pid and start time (a reused pid is another process). */
export type ServerCpu = Map<string, { kind: ServerKind; seconds: number }>;

/**
 * CPU seconds of the servers among this process's descendants (PostgreSQL with its backends, Kafka,
 * Redis, versitygw), from /proc. By process rather than summed: PostgreSQL's backends come and go with the
 * pools, and one that exits between two snapshots must not take its seconds off the total.
 */
export const serverCpu = (): ServerCpu => {
  const processes: ServerCpu = new Map();
  const walk = (pid: string, depth: number) => {
    if (depth > 6) return;
    let children: string[] = [];
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
      }
    } catch {
      return;
    }
    children = [...new Set(children)];
    for (const child of children) {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
        const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        // From field 3 (state) on: 14 utime, 15 stime (clock ticks), 22 starttime.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const kind = kindOf(command);
        if (kind) processes.set(`${child}@${fields[19]}`, { kind, seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
      } catch {
        // Gone already.
      }
      walk(child, depth + 1);
    }
  };
  walk(String(process.pid), 0);
  return processes;
};

/** CPU seconds each kind of server spent between two snapshots: each process's own growth (a new one from zero). */
export const serverCpuBetween = (before: ServerCpu, after: ServerCpu): Record<ServerKind, number> => {
  const totals: Record<ServerKind, number> = { postgres: 0, kafka: 0, redis: 0, versitygw: 0 };
  for (const [key, { kind, seconds }] of after) totals[kind] += seconds - (before.get(key)?.seconds ?? 0);
  return totals;
};

/** Busy and total CPU time of the whole machine so far (s), from /proc/stat: other work on the machine shows beside the platform's. */
export const machineCpu = (): { busy: number; total: number } => {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  // idle and iowait are not busy.
  return { busy: (total - fields[3]! - fields[4]!) / 100, total: total / 100 };
};

/** Cores the whole machine kept busy on average between two machineCpu readings. */
export const machineCoresBetween = (before: { busy: number; total: number }, after: { busy: number; total: number }): number =>
  ((after.busy - before.busy) / (after.total - before.total)) * cpus().length;
