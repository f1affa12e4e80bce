import type { EventEnvelope } from '@galion/events';
import type { Knex } from '@galion/kit';
import type { UserHit } from './active-users.js';

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

/**
 * Inserts the events, skipping those already stored, and adds only the rows really inserted
 * (RETURNING) to the hourly counts, in one statement; returns those rows for the activity bitmaps.
 * Rollup rows are upserted in key order, so concurrent batches (one per Kafka partition) lock them
 * in the same order and cannot deadlock.
 */
const INSERT_WITH_COUNTS = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset(?::jsonb)
    AS t(id uuid, type text, version integer, source text, subject text, user_idx integer, time timestamptz, data jsonb, traceparent text)
), inserted AS (
  INSERT INTO events (event_id, event_time, event_type, user_id, user_idx, source, version, data, traceparent)
  SELECT id, time, type, subject, user_idx, source, coalesce(version, 1), coalesce(data, '{}'::jsonb), traceparent FROM input
  ON CONFLICT DO NOTHING
  RETURNING event_time, event_type, user_idx
), counts AS (
  INSERT INTO event_counts_hourly AS c (bucket, event_type, count)
  SELECT date_trunc('hour', event_time, 'UTC'), event_type, count(*) FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (bucket, event_type) DO UPDATE SET count = c.count + EXCLUDED.count
)
SELECT coalesce(array_agg((extract(epoch FROM event_time) * 1000)::float8), '{}') AS times,
       coalesce(array_agg(user_idx), '{}') AS users
  FROM inserted`;

/** Raw events: the batch insert of the consumer and the reads of the query API. `db` is the pool or a transaction. */
export class EventRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * Stores the events not stored yet and counts them; `userNumbers` gives each subject's number.
   * Returns the time (ms) and user number of each event inserted.
   */
  async insertWithCounts(events: EventEnvelope[], userNumbers: Map<string, number>, db: Knex = this.knex): Promise<UserHit[]> {
    if (events.length === 0) return [];
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
    const { rows } = await db.raw<{ rows: { times: number[]; users: number[] }[] }>(INSERT_WITH_COUNTS, [JSON.stringify(payload)]);
    const { times = [], users = [] } = rows[0] ?? {};
    return times.map((time, i) => ({ time, idx: users[i]! }));
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
