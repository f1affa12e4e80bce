import type { Knex } from '@galion/kit';

/** An application event as it travels on the app-events topic and is stored: nothing in it is a raw address. */
export interface AppEventRecord {
  id: string;
  /** Event time, ISO-8601 UTC. */
  time: string;
  name: string;
  /** The site of the publishable key, '' for events sent with a user's token. */
  site: string;
  user_id: string | null;
  visitor: string;
  session_id: string | null;
  host: string | null;
  path: string | null;
  referrer_host: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  properties: Record<string, string | number | boolean | null>;
  /** When the tracking API accepted it, ISO-8601 UTC. */
  received_at: string;
}

/**
 * A batch in one statement (one transaction, one round trip): insert the events not stored yet,
 * except those of erased users; add the rows really inserted to the hourly counts, upserted in key
 * order so that concurrent batches cannot deadlock.
 */
const STORE_BATCH = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset(?::jsonb) AS t(
    id uuid, time timestamptz, name text, site text, user_id text, visitor text, session_id text, host text, path text,
    referrer_host text, browser text, os text, device text, properties jsonb, received_at timestamptz)
), inserted AS (
  INSERT INTO app_events (event_id, event_time, name, site, user_id, visitor, session_id, host, path, referrer_host, browser, os, device, properties, received_at)
  SELECT id, time, name, site, user_id, visitor, session_id, host, path, referrer_host, browser, os, device, coalesce(properties, '{}'::jsonb), received_at
    FROM input
   WHERE input.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM erased_users e WHERE e.user_id = input.user_id)
  ON CONFLICT DO NOTHING
  RETURNING event_time, site, name, received_at
), counts AS (
  INSERT INTO app_event_counts_hourly AS c (bucket, site, name, count)
  SELECT date_trunc('hour', event_time, 'UTC'), site, name, count(*) FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (bucket, site, name) DO UPDATE SET count = c.count + EXCLUDED.count
)
SELECT coalesce(json_agg((extract(epoch FROM received_at) * 1000)::float8), '[]') AS received FROM inserted`;

export class AppEventRepository {
  constructor(private readonly knex: Knex) {}

  /** Stores a batch (see STORE_BATCH); returns when each event inserted was accepted (ms), for the latency metric. */
  async storeBatch(records: AppEventRecord[]): Promise<number[]> {
    if (records.length === 0) return [];
    const { rows } = await this.knex.raw<{ rows: { received: number[] }[] }>(STORE_BATCH, [JSON.stringify(records)]);
    return rows[0]?.received ?? [];
  }
}

/** What the app-event queries filter on: a range [from, to), and optionally a site and an event name. */
export interface AppEventFilter {
  from: Date;
  to: Date;
  site?: string | undefined;
  name?: string | undefined;
}

export interface Ranked {
  key: string | null;
  events: number;
  users: number;
  visitors: number;
}

/** The WHERE clause of a filter; `table` qualifies the columns when the query joins. */
const where = (filter: AppEventFilter, extra: string[] = [], table = ''): { sql: string; bindings: Knex.RawBinding[] } => {
  const column = (name: string) => (table ? `${table}.${name}` : name);
  const clauses = [`${column('event_time')} >= ?`, `${column('event_time')} < ?`, ...extra];
  const bindings: Knex.RawBinding[] = [filter.from, filter.to];
  if (filter.site !== undefined) {
    clauses.push(`${column('site')} = ?`);
    bindings.push(filter.site);
  }
  if (filter.name !== undefined) {
    clauses.push(`${column('name')} = ?`);
    bindings.push(filter.name);
  }
  return { sql: clauses.join(' AND '), bindings };
};

const toRanked = (row: { key: string | null; events: string; users: string; visitors: string }): Ranked => ({
  key: row.key,
  events: Number(row.events),
  users: Number(row.users),
  visitors: Number(row.visitors),
});

/** The reads of the app-event queries (domain/app-queries.ts): raw events over bounded ranges, hourly counts for time series. */
export class AppEventQueryRepository {
  constructor(private readonly knex: Knex) {}

  async totals(filter: AppEventFilter): Promise<{ events: number; users: number; visitors: number }> {
    const { sql, bindings } = where(filter);
    const { rows } = await this.knex.raw<{ rows: { events: string; users: string; visitors: string }[] }>(
      `SELECT count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT visitor) AS visitors FROM app_events WHERE ${sql}`,
      bindings,
    );
    const row = rows[0]!;
    return { events: Number(row.events), users: Number(row.users), visitors: Number(row.visitors) };
  }

  /**
   * Groups by `key` (an SQL expression), most events first then by key, `limit` rows from `offset`.
   * `extra` narrows the rows (e.g. page views only).
   */
  async ranked(filter: AppEventFilter, key: string, keyBindings: Knex.RawBinding[], page: { offset: number; limit: number }, extra: string[] = []): Promise<Ranked[]> {
    const { sql, bindings } = where(filter, extra);
    const { rows } = await this.knex.raw<{ rows: { key: string | null; events: string; users: string; visitors: string }[] }>(
      `SELECT ${key} AS key, count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT visitor) AS visitors
         FROM app_events WHERE ${sql}
        GROUP BY 1 ORDER BY events DESC, key ASC NULLS LAST LIMIT ? OFFSET ?`,
      [...keyBindings, ...bindings, page.limit, page.offset],
    );
    return rows.map(toRanked);
  }

  /**
   * An ordered funnel: for each step, the visitors who did every step before it in order. Each
   * step keeps, per visitor, the first time it happened after the previous step's: taking the
   * earliest at each step can only leave more room for the next, so no visitor is missed.
   */
  async funnel(filter: AppEventFilter, steps: string[]): Promise<number[]> {
    const parts: string[] = [];
    const all: Knex.RawBinding[] = [];
    steps.forEach((step, i) => {
      const { sql, bindings } = where({ ...filter, name: step }, [], 'e');
      parts.push(
        i === 0
          ? `s0 AS (SELECT e.visitor, min(e.event_time) AS t FROM app_events e WHERE ${sql} GROUP BY e.visitor)`
          : `s${i} AS (SELECT e.visitor, min(e.event_time) AS t FROM app_events e JOIN s${i - 1} p ON p.visitor = e.visitor
                        WHERE ${sql} AND e.event_time > p.t GROUP BY e.visitor)`,
      );
      all.push(...bindings);
    });
    const { rows } = await this.knex.raw<{ rows: Record<string, string>[] }>(
      `WITH ${parts.join(',\n')} SELECT ${steps.map((_, i) => `(SELECT count(*) FROM s${i}) AS c${i}`).join(', ')}`,
      all,
    );
    return steps.map((_, i) => Number(rows[0]![`c${i}`]));
  }

  /** Events per bucket of `stride` over whole buckets [from, to), from the hourly counts. Buckets without events are absent. */
  async countPerBucket(filter: AppEventFilter, stride: '1 hour' | '1 day'): Promise<Map<number, number>> {
    const clauses = ['bucket >= ?', 'bucket < ?'];
    const bindings: Knex.RawBinding[] = [stride, filter.from, filter.to];
    if (filter.site !== undefined) {
      clauses.push('site = ?');
      bindings.push(filter.site);
    }
    if (filter.name !== undefined) {
      clauses.push('name = ?');
      bindings.push(filter.name);
    }
    const { rows } = await this.knex.raw<{ rows: { bucket: Date; count: string }[] }>(
      `SELECT date_bin(?::interval, bucket, 'epoch'::timestamptz) AS bucket, sum(count)::bigint AS count
         FROM app_event_counts_hourly WHERE ${clauses.join(' AND ')} GROUP BY 1`,
      bindings,
    );
    return new Map(rows.map((row) => [row.bucket.getTime(), Number(row.count)]));
  }

  /** Deletes the hourly counts before `cutoff` (rollup retention). */
  async pruneCountsBefore(cutoff: Date): Promise<number> {
    return this.knex('app_event_counts_hourly').where('bucket', '<', cutoff).delete();
  }
}
