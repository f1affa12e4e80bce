import type { EventEnvelope } from '@galion/events';
import type { Knex, Logger } from '@galion/kit';
import type { ActiveUserRepository, UserHit } from '../repositories/active-users.js';
import type { EventRepository } from '../repositories/events.js';
import { partitionName, type PartitionRepository } from '../repositories/partitions.js';
import { DAY_MS, floorDay, retentionCutoff } from './time.js';

/** How far in the future an event time may be (producer clock skew) before the event is refused. */
export const MAX_FUTURE_MS = DAY_MS;

export interface IngestResult {
  /** Events stored for the first time. */
  stored: number;
  /** Events that were already stored (redeliveries). */
  duplicates: number;
  /** Events older than the raw-event retention: neither stored nor counted. */
  expired: number;
  /** Events refused (positions in the input), to be dead-lettered with the reason. */
  rejected: { index: number; reason: string }[];
  /** For each stored event, seconds from its event time to the commit. */
  latenciesSeconds: number[];
}

export interface EventIngestorDeps {
  knex: Knex;
  events: EventRepository;
  activeUsers: ActiveUserRepository;
  partitions: PartitionRepository;
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
}

/**
 * Stores batches of validated events: one transaction per batch, idempotent (a redelivered event
 * is neither stored nor counted twice), rollups (hourly counts, active-user bitmaps) updated with
 * exactly the rows inserted, in the same transaction.
 */
export class EventIngestor {
  private readonly now: () => Date;
  /** Partitions known to exist, so a batch checks the catalogue only for a day it has not seen. */
  private readonly knownPartitions = new Set<string>();

  constructor(private readonly deps: EventIngestorDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async ingest(events: EventEnvelope[]): Promise<IngestResult> {
    const now = this.now();
    const cutoff = retentionCutoff(now, this.deps.retentionDays).getTime();
    const latest = now.getTime() + MAX_FUTURE_MS;
    const accepted: EventEnvelope[] = [];
    const rejected: IngestResult['rejected'] = [];
    let expired = 0;
    events.forEach((event, index) => {
      const time = Date.parse(event.time);
      if (time > latest) rejected.push({ index, reason: `event time ${event.time} is more than a day in the future` });
      else if (time < cutoff) expired += 1;
      else accepted.push(event);
    });
    if (expired > 0) this.deps.logger.debug({ expired }, 'events older than the retention skipped');

    let inserted: UserHit[] = [];
    try {
      await this.ensurePartitions(accepted);
      if (accepted.length > 0) {
        inserted = await this.deps.knex.transaction(async (trx) => {
          const numbers = await this.deps.activeUsers.numbers(
            accepted.map((event) => event.subject),
            trx,
          );
          const rows = await this.deps.events.insertWithCounts(accepted, numbers, trx);
          await this.deps.activeUsers.record(rows, trx);
          return rows;
        });
      }
    } catch (error) {
      // A partition may have been dropped or created by another replica meanwhile: look again next time.
      this.knownPartitions.clear();
      throw error;
    }
    const committed = Date.now();
    return {
      stored: inserted.length,
      duplicates: accepted.length - inserted.length,
      expired,
      rejected,
      latenciesSeconds: inserted.map(({ time }) => Math.max(0, committed - time) / 1000),
    };
  }

  private async ensurePartitions(events: EventEnvelope[]): Promise<void> {
    const days = new Map<string, Date>();
    for (const event of events) {
      const day = floorDay(new Date(Date.parse(event.time)));
      days.set(partitionName(day), day);
    }
    let missing = [...days].filter(([name]) => !this.knownPartitions.has(name));
    if (missing.length === 0) return;
    for (const partition of await this.deps.partitions.list()) this.knownPartitions.add(partition.name);
    missing = missing.filter(([name]) => !this.knownPartitions.has(name));
    if (missing.length === 0) return;
    const created = await this.deps.partitions.ensure(missing.map(([, day]) => day));
    if (created.length > 0) this.deps.logger.info({ partitions: created }, 'event partitions created on demand');
    for (const [name] of missing) this.knownPartitions.add(name);
  }
}
