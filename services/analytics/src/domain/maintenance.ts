import type { Logger } from '@galion/kit';
import type { ActiveUserRepository } from '../repositories/active-users.js';
import type { AppEventQueryRepository } from '../repositories/app-events.js';
import type { PartitionRepository } from '../repositories/partitions.js';
import type { RollupRepository } from '../repositories/rollups.js';
import type { VisitorSaltRepository } from '../repositories/visitor-salts.js';
import { addDays, floorDay, isoDay, retentionCutoff } from '../time.js';

/** Days of partitions created ahead of today, so the consumer rarely has to create one itself. */
export const PARTITIONS_AHEAD_DAYS = 3;

export interface MaintenanceDeps {
  /** The daily partitions of each partitioned table (platform and application events). */
  partitions: PartitionRepository[];
  rollups: RollupRepository;
  appCounts: Pick<AppEventQueryRepository, 'pruneCountsBefore'>;
  activeUsers: ActiveUserRepository;
  salts: Pick<VisitorSaltRepository, 'deleteBefore'>;
  retentionDays: number;
  rollupRetentionDays: number;
  logger: Logger;
  now?: () => Date;
}

export interface MaintenanceReport {
  created: string[];
  dropped: string[];
  /** Hourly count rows deleted. */
  prunedCounts: number;
  /** Activity bitmap rows deleted. */
  prunedActivity: number;
  /** Visitor salts deleted (those of days before yesterday). */
  deletedSalts: number;
}

/**
 * The periodic upkeep of the event store: partitions for the coming days, raw events past their
 * retention dropped a whole day at a time, rollups past theirs deleted. Safe to run on every
 * replica at once, and to run again after a failure.
 */
export class Maintenance {
  private readonly now: () => Date;
  private running: Promise<MaintenanceReport> | undefined;

  constructor(private readonly deps: MaintenanceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  run(): Promise<MaintenanceReport> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs now and then every `intervalMs`; returns the function that stops it. */
  schedule(intervalMs: number): () => Promise<void> {
    const tick = () =>
      this.run().catch((error: unknown) => {
        this.deps.logger.warn({ err: error }, 'analytics maintenance failed; it runs again at the next interval');
      });
    const first = tick();
    const timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await first;
      await this.running?.catch(() => undefined);
    };
  }

  private async runOnce(): Promise<MaintenanceReport> {
    const { partitions, rollups, logger } = this.deps;
    const now = this.now();
    const cutoff = retentionCutoff(now, this.deps.retentionDays);
    const today = floorDay(now);
    const days: Date[] = [];
    for (let offset = -1; offset <= PARTITIONS_AHEAD_DAYS; offset += 1) {
      const day = addDays(today, offset);
      if (day >= cutoff) days.push(day);
    }
    const created: string[] = [];
    const dropped: string[] = [];
    for (const table of partitions) {
      created.push(...(await table.ensure(days)));
      dropped.push(...(await table.dropBefore(cutoff)));
    }
    const rollupCutoff = retentionCutoff(now, this.deps.rollupRetentionDays);
    const prunedCounts = (await rollups.pruneBefore(rollupCutoff)) + (await this.deps.appCounts.pruneCountsBefore(rollupCutoff));
    const prunedActivity = await this.deps.activeUsers.pruneBefore(rollupCutoff);
    // Today's salt hashes today's visitors; yesterday's is kept for events accepted just before midnight.
    const deletedSalts = await this.deps.salts.deleteBefore(isoDay(addDays(today, -1)));
    const report = { created, dropped, prunedCounts, prunedActivity, deletedSalts };
    if (created.length + dropped.length + prunedCounts + prunedActivity + deletedSalts > 0) logger.info(report, 'analytics maintenance done');
    return report;
  }
}
