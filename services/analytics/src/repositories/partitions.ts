import type { Knex } from '@galion/kit';
import { addDays, isoDay } from '../time.js';

export interface EventPartition {
  name: string;
  /** The UTC day the partition holds: [day, day + 1 day). */
  day: Date;
  /** True while a concurrent detach is unfinished (it was interrupted). */
  detachPending: boolean;
}

const PARENT = 'events';
const NAME = /^events_p(\d{4})(\d{2})(\d{2})$/;
// Serialises partition creation between replicas.
const CREATE_LOCK = 'galion-analytics-partitions';

export const partitionName = (day: Date): string => `events_p${isoDay(day).replaceAll('-', '')}`;

const dayOf = (name: string): Date | undefined => {
  const match = NAME.exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
};

/**
 * The daily partitions of the raw events table. Creation attaches a new empty table (SHARE UPDATE
 * EXCLUSIVE on the parent, so inserts and queries go on); removal detaches concurrently, then
 * drops the detached table: neither blocks the consumer or the query API.
 */
export class PartitionRepository {
  constructor(private readonly knex: Knex) {}

  async list(): Promise<EventPartition[]> {
    const { rows } = await this.knex.raw<{ rows: { name: string; detach_pending: boolean }[] }>(
      `SELECT c.relname AS name, i.inhdetachpending AS detach_pending
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = ?::regclass`,
      [PARENT],
    );
    return rows
      .map((row) => ({ name: row.name, day: dayOf(row.name), detachPending: row.detach_pending }))
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
        const name = partitionName(day);
        if (existing.has(name)) continue;
        // A table of that name that is not attached is a leftover of an interrupted removal: its rows are past retention.
        await trx.raw('DROP TABLE IF EXISTS ??', [name]);
        await trx.raw('CREATE TABLE ?? (LIKE ?? INCLUDING DEFAULTS)', [name, PARENT]);
        // DDL takes no bind parameters; the bounds are ISO timestamps made here, never input.
        await trx.raw(
          `ALTER TABLE ?? ATTACH PARTITION ?? FOR VALUES FROM ('${day.toISOString()}') TO ('${addDays(day, 1).toISOString()}')`,
          [PARENT, name],
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
        PARENT,
        partition.name,
      ]);
      await this.knex.raw('DROP TABLE IF EXISTS ??', [partition.name]);
      dropped.push(partition.name);
    }
    // Tables detached by an earlier run that stopped before dropping them.
    const { rows } = await this.knex.raw<{ rows: { name: string }[] }>(
      `SELECT c.relname AS name FROM pg_class c
        WHERE c.relkind = 'r' AND c.relname ~ '^events_p[0-9]{8}$' AND NOT c.relispartition
          AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = ?::regclass)`,
      [PARENT],
    );
    for (const { name } of rows) {
      const day = dayOf(name);
      if (!day || addDays(day, 1) > cutoff) continue;
      await this.knex.raw('DROP TABLE IF EXISTS ??', [name]);
      dropped.push(name);
    }
    return dropped;
  }

  private async listIn(db: Knex): Promise<{ name: string }[]> {
    const { rows } = await db.raw<{ rows: { name: string }[] }>(
      'SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass',
      [PARENT],
    );
    return rows;
  }
}
