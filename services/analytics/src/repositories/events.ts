import type { EventEnvelope } from '@galion/events';
import { copyField, copyIn, isUniqueViolation, type Knex } from '@galion/kit';
import { HOUR_MS } from '../time.js';

/** A stored event as the query API returns it. */
export interface StoredEvent {
  id: string;
  type: string;
  userId: string;
  source: string;
  version: number;
  time: Date;
  /** The event time with its full (microsecond) precision, for cursors. */
  timeText: string;
  data: Record<string, unknown>;
  receivedAt: Date;
}

interface EventRow {
  event_id: string;
  event_type: string;
  user_id: string;
  source: string;
  version: number;
  event_time: Date;
  time_text: string;
  data: Record<string, unknown>;
  received_at: Date;
}

const toEvent = (row: EventRow): StoredEvent => ({
  id: row.event_id,
  type: row.event_type,
  userId: row.user_id,
  source: row.source,
  version: row.version,
  time: row.event_time,
  timeText: row.time_text,
  data: row.data,
  receivedAt: row.received_at,
});

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

export interface EventFilter {
  type?: string | undefined;
  userId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** A position in the newest-first order: strictly older than this (time, id) pair. */
export interface Position {
  time: string;
  id: string;
}

const TIME_TEXT = `to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time_text`;

/** Activity bitmaps to OR into a rollup table: bucket start (ISO), block, and 8192 bits as hex. */
export interface BitmapRows {
  buckets: string[];
  blocks: number[];
  bits: string[];
}

const mergeBitmaps = (table: string) => `
  INSERT INTO ${table} AS a (bucket, block, users)
  SELECT bucket, block, ('x' || bits)::bit(8192) FROM unnest(?::timestamptz[], ?::integer[], ?::text[]) AS t(bucket, block, bits)
   ORDER BY bucket, block
  ON CONFLICT (bucket, block) DO UPDATE SET users = a.users | EXCLUDED.users WHERE (a.users | EXCLUDED.users) <> a.users`;

/**
 * A whole batch in one statement, so in one transaction and one round trip: insert the events,
 * skipping those already stored; add only the rows really inserted (RETURNING) to the hourly
 * counts; OR the batch's users into the activity bitmaps (setting a bit twice changes nothing, so
 * the bitmaps may include redelivered events). Rollup rows are upserted in key order, so concurrent
 * batches (one per Kafka partition) lock them in the same order and cannot deadlock; they are held
 * only for the end of this statement and its commit.
 */
const STORE_BATCH = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset(?::jsonb)
    AS t(id uuid, type text, version integer, source text, subject text, user_idx integer, time timestamptz, data jsonb, traceparent text)
), inserted AS (
  INSERT INTO events (event_id, event_time, event_type, user_id, user_idx, source, version, data, traceparent)
  SELECT id, time, type, subject, user_idx, source, coalesce(version, 1), coalesce(data, '{}'::jsonb), traceparent FROM input
  ON CONFLICT DO NOTHING
  RETURNING event_time, event_type
), counts AS (
  INSERT INTO event_counts_hourly AS c (bucket, event_type, count)
  SELECT date_trunc('hour', event_time, 'UTC'), event_type, count(*) FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (bucket, event_type) DO UPDATE SET count = c.count + EXCLUDED.count
), hourly AS (${mergeBitmaps('active_users_hourly')}
), daily AS (${mergeBitmaps('active_users_daily')}
)
SELECT coalesce(json_agg((extract(epoch FROM event_time) * 1000)::float8), '[]') AS times FROM inserted`;

/** A batch to store: its events, their times (ms) in the same order, each subject's user number, the batch's activity bitmaps. */
export interface EventBatch {
  events: EventEnvelope[];
  times: number[];
  userNumbers: Map<string, number>;
  bitmaps: { hourly: BitmapRows; daily: BitmapRows };
}

/** The batch's events, as COPY text lines (eventLine), when none of them is stored yet. */
export const COPY_EVENTS = 'COPY events (event_id, event_time, event_type, user_id, user_idx, source, version, data, traceparent) FROM STDIN';

/** One event as a line of COPY_EVENTS text; `userNumbers` gives its subject's user number. */
export const eventLine = (event: EventEnvelope, userNumbers: ReadonlyMap<string, number>): string =>
  `${copyField(event.id)}\t${copyField(event.time)}\t${copyField(event.type)}\t${copyField(event.subject)}\t${userNumbers.get(event.subject)!}\t${copyField(event.source)}\t${event.version ?? 1}\t${copyField(JSON.stringify(event.data ?? {}))}\t${copyField(event.traceparent)}\n`;

/** The hourly counts of a batch whose events were all new: what STORE_BATCH's `counts` adds. */
const hourlyCounts = (events: EventEnvelope[], times: number[]): { buckets: string[]; types: string[]; counts: number[] } => {
  const byKey = new Map<string, { bucket: number; type: string; count: number }>();
  for (const [i, event] of events.entries()) {
    const bucket = Math.floor(times[i]! / HOUR_MS) * HOUR_MS;
    const key = `${bucket} ${event.type}`;
    const entry = byKey.get(key);
    if (entry) entry.count += 1;
    else byKey.set(key, { bucket, type: event.type, count: 1 });
  }
  const rows = [...byKey.values()];
  return { buckets: rows.map((row) => new Date(row.bucket).toISOString()), types: rows.map((row) => row.type), counts: rows.map((row) => row.count) };
};

/** The bindings of mergeBitmaps' two upserts, hourly then daily. */
const bitmapBindings = ({ hourly, daily }: { hourly: BitmapRows; daily: BitmapRows }) => [
  hourly.buckets,
  hourly.blocks,
  hourly.bits,
  daily.buckets,
  daily.blocks,
  daily.bits,
];

/** The rollups of a batch copied in whole: the same upserts as STORE_BATCH's, rows locked in the same order. */
const STORE_ROLLUPS = `
WITH counts AS (
  INSERT INTO event_counts_hourly AS c (bucket, event_type, count)
  SELECT bucket, event_type, count FROM unnest(?::timestamptz[], ?::text[], ?::bigint[]) AS t(bucket, event_type, count)
   ORDER BY bucket, event_type
  ON CONFLICT (bucket, event_type) DO UPDATE SET count = c.count + EXCLUDED.count
), hourly AS (${mergeBitmaps('active_users_hourly')}
), daily AS (${mergeBitmaps('active_users_daily')}
)
SELECT 1`;

/** Raw events: the batch insert of the consumer and the reads of the query API. `db` is the pool or a transaction. */
export class EventRepository {
  constructor(private readonly knex: Knex) {}

  /** Stores a batch; returns the event time (ms) of each event inserted. The usual batch, all of it new, is copied in (copyBatch); one holding an event stored already goes through STORE_BATCH. */
  async storeBatch(batch: EventBatch, db: Knex = this.knex): Promise<number[]> {
    if (batch.events.length === 0) return [];
    return (await this.copyBatch(batch, db)) ?? this.insertBatch(batch, db);
  }

  /**
   * A batch none of whose events is stored yet: COPY, then its rollups, in one transaction (a
   * savepoint of the caller's). COPY costs PostgreSQL about a third less than STORE_BATCH's insert
   * (docs/performance.md) but cannot skip a row: when an event is stored already (a redelivery,
   * or the same event twice in the batch) it writes nothing and answers undefined.
   */
  private async copyBatch({ events, times, userNumbers, bitmaps }: EventBatch, db: Knex): Promise<number[] | undefined> {
    let text = '';
    for (const event of events) text += eventLine(event, userNumbers);
    const counts = hourlyCounts(events, times);
    try {
      await db.transaction(async (trx) => {
        await copyIn(trx, COPY_EVENTS, [Buffer.from(text)]);
        await trx.raw(STORE_ROLLUPS, [counts.buckets, counts.types, counts.counts, ...bitmapBindings(bitmaps)]);
      });
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return times;
  }

  /** A batch through STORE_BATCH: events stored already are skipped, and only the new ones counted. */
  private async insertBatch({ events, userNumbers, bitmaps }: EventBatch, db: Knex): Promise<number[]> {
    const payload = events.map((event) => ({
      id: event.id,
      type: event.type,
      version: event.version,
      source: event.source,
      subject: event.subject,
      user_idx: userNumbers.get(event.subject),
      time: event.time,
      data: event.data,
      traceparent: event.traceparent ?? null,
    }));
    const { rows } = await db.raw<{ rows: { times: number[] }[] }>(STORE_BATCH, [JSON.stringify(payload), ...bitmapBindings(bitmaps)]);
    return rows[0]?.times ?? [];
  }

  /** Runs `work` in one transaction: a batch's events and its deletions commit together. */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work);
  }

  /** A page of events, newest first, strictly after `after` in that order. */
  async list(filter: EventFilter, limit: number, after?: Position): Promise<StoredEvent[]> {
    const query = this.knex<EventRow>('events')
      .select('event_id', 'event_type', 'user_id', 'source', 'version', 'event_time', 'data', 'received_at', this.knex.raw(TIME_TEXT))
      .orderBy([
        { column: 'event_time', order: 'desc' },
        { column: 'event_id', order: 'desc' },
      ])
      .limit(limit);
    if (filter.type) query.where('event_type', filter.type);
    if (filter.userId) query.where('user_id', filter.userId);
    if (filter.from) query.where('event_time', '>=', filter.from);
    if (filter.to) query.where('event_time', '<', filter.to);
    if (after) query.whereRaw('(event_time, event_id) < (?::timestamptz, ?::uuid)', [after.time, after.id]);
    return ((await query) as unknown as EventRow[]).map(toEvent);
  }

  /** Events per type in these ranges (the partial hours at the edges of a summary). */
  async countByType(ranges: TimeRange[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (ranges.length === 0) return counts;
    const { rows } = await this.knex.raw<{ rows: { event_type: string; count: number }[] }>(
      `SELECT event_type, count(*)::bigint AS count FROM (${ranges.map(() => RANGE_SELECT('event_type')).join(' UNION ALL ')}) AS e GROUP BY event_type`,
      ranges.flatMap((range) => [range.from, range.to]),
    );
    for (const row of rows) counts.set(row.event_type, Number(row.count));
    return counts;
  }

  /** First and last event time in [from, to). */
  async timeBounds(range: TimeRange): Promise<{ first: Date | null; last: Date | null }> {
    const { rows } = await this.knex.raw<{ rows: { first: Date | null; last: Date | null }[] }>(
      'SELECT min(event_time) AS first, max(event_time) AS last FROM events WHERE event_time >= ? AND event_time < ?',
      [range.from, range.to],
    );
    return { first: rows[0]?.first ?? null, last: rows[0]?.last ?? null };
  }
}

/** A select of one column of the events in a range, with two bindings: from and to. */
export const RANGE_SELECT = (column: string): string => `SELECT ${column} FROM events WHERE event_time >= ? AND event_time < ?`;
