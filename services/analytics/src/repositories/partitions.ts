import type { Knex, Logger } from '@galion/kit';
import { addDays, DAY_MS, isoDay } from '../time.js';

export interface EventPartition {
  name: string;
  /** The UTC day the partition holds: [day, day + 1 day). */
  day: Date;
  /** True while a concurrent detach is unfinished (it was interrupted). */
  detachPending: boolean;
}

/** The tables partitioned by day: the platform's events and the applications' events. */
export type PartitionedTable = 'events' | 'app_events';

// Serialises partition creation between replicas.
const CREATE_LOCK = 'galion-analytics-partitions';

/** The partition of `parent` holding a UTC day: `events_p20260421`. */
export const partitionName = (day: Date, parent: PartitionedTable = 'events'): string => `${parent}_p${isoDay(day).replaceAll('-', '')}`;

const dayOf = (name: string, parent: PartitionedTable): Date | undefined => {
  const match = new RegExp(`^${parent}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
};

/**
 * The daily partitions of the raw events table. Creation attaches a new empty table (SHARE UPDATE
 * EXCLUSIVE on the parent, so inserts and queries go on); removal detaches concurrently, then
 * drops the detached table: neither blocks the consumer or the query API.
 */
export class PartitionRepository {
  constructor(
    private readonly knex: Knex,
    readonly parent: PartitionedTable = 'events',
  ) {}

  async list(): Promise<EventPartition[]> {
    const { rows } = await this.knex.raw<{ rows: { name: string; detach_pending: boolean }[] }>(
      `SELECT c.relname AS name, i.inhdetachpending AS detach_pending
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = ?::regclass`,
      [this.parent],
    );
    return rows
      .map((row) => ({ name: row.name, day: dayOf(row.name, this.parent), detachPending: row.detach_pending }))
      .filter((partition): partition is EventPartition => partition.day !== undefined)
      .sort((a, b) => a.day.getTime() - b.day.getTime());
  }

  /** Creates the partitions of these UTC days that do not exist yet; returns the names created. */
  async ensure(days: Date[]): Promise<string[]> {
    if (days.length === 0) return [];
    return this.knex.transaction(async (trx) => {
      await trx.raw("SET LOCAL lock_timeout = '10s'");
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [CREATE_LOCK]);
      const existing = new Set((await this.listIn(trx)).map((partition) => partition.name));
      const created: string[] = [];
      for (const day of days) {
        const name = partitionName(day, this.parent);
        if (existing.has(name)) continue;
        // A table of that name that is not attached is a leftover of an interrupted removal: its rows are past retention.
        await trx.raw('DROP TABLE IF EXISTS ??', [name]);
        await trx.raw('CREATE TABLE ?? (LIKE ?? INCLUDING DEFAULTS)', [name, this.parent]);
        // DDL takes no bind parameters; the bounds are ISO timestamps made here, never input.
        await trx.raw(
          `ALTER TABLE ?? ATTACH PARTITION ?? FOR VALUES FROM ('${day.toISOString()}') TO ('${addDays(day, 1).toISOString()}')`,
          [this.parent, name],
        );
        existing.add(name);
        created.push(name);
      }
      return created;
    });
  }

  /** Detaches and drops every partition whose day ends at or before `cutoff`; returns the names dropped. */
  async dropBefore(cutoff: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const partition of await this.list()) {
      if (addDays(partition.day, 1) > cutoff) continue;
      // CONCURRENTLY cannot run in a transaction: each statement runs on its own.
      await this.knex.raw(`ALTER TABLE ?? DETACH PARTITION ?? ${partition.detachPending ? 'FINALIZE' : 'CONCURRENTLY'}`, [
        this.parent,
        partition.name,
      ]);
      await this.knex.raw('DROP TABLE IF EXISTS ??', [partition.name]);
      dropped.push(partition.name);
    }
    // Tables detached by an earlier run that stopped before dropping them.
    const { rows } = await this.knex.raw<{ rows: { name: string }[] }>(
      `SELECT c.relname AS name FROM pg_class c
        WHERE c.relkind = 'r' AND c.relname ~ ? AND NOT c.relispartition
          AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = ?::regclass)`,
      [`^${this.parent}_p[0-9]{8}$`, this.parent],
    );
    for (const { name } of rows) {
      const day = dayOf(name, this.parent);
      if (!day || addDays(day, 1) > cutoff) continue;
      await this.knex.raw('DROP TABLE IF EXISTS ??', [name]);
      dropped.push(name);
    }
    return dropped;
  }

  private async listIn(db: Knex): Promise<{ name: string }[]> {
    const { rows } = await db.raw<{ rows: { name: string }[] }>(
      'SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass',
      [this.parent],
    );
    return rows;
  }
}

/**
 * The partitions an ingestor has seen, so a batch checks the catalogue only for a day it has not
 * seen, and creates the missing ones (another replica may be creating them too: the lock in
 * `ensure` serialises that).
 */
export class KnownPartitions {
  private readonly known = new Set<string>();

  constructor(
    private readonly repository: PartitionRepository,
    private readonly logger: Logger,
  ) {}

  /** Makes sure the partition of each of these event times (ms) exists. */
  async ensureFor(times: Iterable<number>): Promise<void> {
    const { parent } = this.repository;
    const days = new Set<number>();
    for (const time of times) days.add(Math.floor(time / DAY_MS) * DAY_MS);
    let missing = [...days].map((day) => new Date(day)).filter((day) => !this.known.has(partitionName(day, parent)));
    if (missing.length === 0) return;
    for (const partition of await this.repository.list()) this.known.add(partition.name);
    missing = missing.filter((day) => !this.known.has(partitionName(day, parent)));
    if (missing.length === 0) return;
    const created = await this.repository.ensure(missing);
    if (created.length > 0) this.logger.info({ partitions: created }, 'event partitions created on demand');
    for (const day of missing) this.known.add(partitionName(day, parent));
  }

  /** After a failed write: a partition may have been dropped or created by another replica meanwhile. */
  forget(): void {
    this.known.clear();
  }
}
