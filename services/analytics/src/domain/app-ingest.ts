import type { Logger } from '@galion/kit';
import type { AppEventRepository } from '../repositories/app-events.js';
import { KnownPartitions, type PartitionRepository } from '../repositories/partitions.js';
import { retentionCutoff } from '../time.js';
import type { AppEventRecord } from './tracking.js';

export interface AppIngestResult {
  stored: number;
  /** Already stored, or of an erased user. */
  skipped: number;
  /** Older than the raw-event retention. */
  expired: number;
  /** For each stored event, seconds from its acceptance by the tracking API to the commit. */
  latenciesSeconds: number[];
}

/** Stores batches of application events from the app-events topic: one statement per batch, idempotent. */
export class AppEventIngestor {
  private readonly partitions: KnownPartitions;
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      appEvents: AppEventRepository;
      partitions: PartitionRepository;
      retentionDays: number;
      logger: Logger;
      now?: () => Date;
    },
  ) {
    this.partitions = new KnownPartitions(deps.partitions, deps.logger);
    this.now = deps.now ?? (() => new Date());
  }

  async ingest(records: AppEventRecord[]): Promise<AppIngestResult> {
    const cutoff = retentionCutoff(this.now(), this.deps.retentionDays).getTime();
    const kept = records.filter((record) => Date.parse(record.time) >= cutoff);
    let received: number[] = [];
    try {
      await this.partitions.ensureFor(kept.map((record) => Date.parse(record.time)));
      received = await this.deps.appEvents.storeBatch(kept);
    } catch (error) {
      this.partitions.forget();
      throw error;
    }
    const committed = Date.now();
    return {
      stored: received.length,
      skipped: kept.length - received.length,
      expired: records.length - kept.length,
      latenciesSeconds: received.map((time) => Math.max(0, committed - time) / 1000),
    };
  }
}
