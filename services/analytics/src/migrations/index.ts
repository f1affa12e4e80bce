import type { Migration } from '@galion/kit';

/**
 * Raw events, partitioned by day of event time, so retention drops whole partitions (no DELETE,
 * no bloat, no long locks). Partitions are created ahead of time by the maintenance job and on
 * demand by the consumer (repositories/partitions.ts); the migration creates none.
 *
 * Deduplication: a unique constraint on a partitioned table must contain the partition key, so
 * the key is (event_time, event_id) rather than event_id alone. That still stores every event
 * once, because a redelivered event is the same bytes (Kafka redelivery, or the outbox relay
 * publishing the stored envelope again) and so has the same `time` as well as the same `id`. A
 * separate event-id table would give the same guarantee at the price of a second insert and index
 * per event and a retention of its own.
 *
 * `user_idx` is the user's number in `user_ids` (see the rollups), kept here so that the partial
 * hours at the edges of a query add their users to the activity bitmaps without a lookup.
 */
const events: Migration = {
  name: '0001_events',
  async up(knex) {
    await knex.raw(`
      CREATE TABLE events (
        event_id uuid NOT NULL,
        event_time timestamptz NOT NULL,
        event_type text NOT NULL,
        user_id text NOT NULL,
        user_idx integer NOT NULL,
        source text NOT NULL,
        version integer NOT NULL DEFAULT 1,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        traceparent text,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_pkey PRIMARY KEY (event_time, event_id)
      ) PARTITION BY RANGE (event_time)`);
    // Keyset pagination newest first, by user and by type; the primary key serves the unfiltered list.
    await knex.raw('CREATE INDEX events_user_time_idx ON events (user_id, event_time, event_id)');
    await knex.raw('CREATE INDEX events_type_time_idx ON events (event_type, event_time, event_id)');
  },
  async down(knex) {
    await knex.raw('DROP TABLE events');
  },
};

/**
 * Rollups, written in the same transaction as the raw events they count, and kept longer.
 * - event_counts_hourly: events per type per UTC hour (summary, by-type, timeseries).
 * - user_ids: a dense number per user, so that a set of users is a bitmap.
 * - active_users_hourly / active_users_daily: per UTC hour and day, the users with at least one
 *   event, as bitmaps of 8192 users per block (1 KB, stored inline). Distinct users over any range
 *   is the population count of the OR of its days and hours: exact, and its cost grows with the
 *   length of the range and the number of users, never with the number of events.
 */
const rollups: Migration = {
  name: '0002_rollups',
  async up(knex) {
    await knex.raw(`
      CREATE TABLE event_counts_hourly (
        bucket timestamptz NOT NULL,
        event_type text NOT NULL,
        count bigint NOT NULL,
        CONSTRAINT event_counts_hourly_pkey PRIMARY KEY (bucket, event_type)
      )`);
    await knex.raw(`
      CREATE TABLE user_ids (
        user_id text NOT NULL,
        idx integer GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START WITH 0) NOT NULL,
        CONSTRAINT user_ids_pkey PRIMARY KEY (user_id),
        CONSTRAINT user_ids_idx_key UNIQUE (idx)
      )`);
    for (const table of ['active_users_hourly', 'active_users_daily']) {
      // Free space on each page lets most bitmap updates be HOT (no index write).
      await knex.raw(`
        CREATE TABLE ${table} (
          bucket timestamptz NOT NULL,
          block integer NOT NULL,
          users bit(8192) NOT NULL,
          CONSTRAINT ${table}_pkey PRIMARY KEY (bucket, block)
        ) WITH (fillfactor = 70)`);
    }
  },
  async down(knex) {
    for (const table of ['active_users_daily', 'active_users_hourly', 'user_ids', 'event_counts_hourly'])
      await knex.raw(`DROP TABLE ${table}`);
  },
};

/**
 * Events sent by applications (the tracking API), beside the platform's: partitioned by day of
 * event time the same way (the partition repository serves both parents), deduplicated the same
 * way ((event_time, event_id): a retried batch whose events carry their id and time is stored
 * once), counted per hour and name in the same transaction.
 * - No raw IP and no full URL are stored: `visitor` is a salted hash (docs/analytics.md), `path`
 *   and `host` come from the URL without its query string, `referrer_host` from the referrer.
 * - `site` is the publishable key's site, or '' for events sent with a user's token.
 * - tracking_sites: the publishable keys; visitor_salts: the day's salt, deleted after a day so
 *   that yesterday's hashes can no longer be recomputed from an address; erased_users: users
 *   whose events were erased (user.deleted), so a late or redelivered event of theirs is not stored.
 */
const appEvents: Migration = {
  name: '0003_app_events',
  async up(knex) {
    await knex.raw(`
      CREATE TABLE app_events (
        event_id uuid NOT NULL,
        event_time timestamptz NOT NULL,
        name text NOT NULL,
        site text NOT NULL DEFAULT '',
        user_id text,
        visitor text NOT NULL,
        session_id text,
        host text,
        path text,
        referrer_host text,
        browser text,
        os text,
        device text,
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT app_events_pkey PRIMARY KEY (event_time, event_id)
      ) PARTITION BY RANGE (event_time)`);
    await knex.raw('CREATE INDEX app_events_name_time_idx ON app_events (name, event_time)');
    // Erasure finds a user's events without scanning the others.
    await knex.raw('CREATE INDEX app_events_user_idx ON app_events (user_id) WHERE user_id IS NOT NULL');
    await knex.raw(`
      CREATE TABLE app_event_counts_hourly (
        bucket timestamptz NOT NULL,
        site text NOT NULL,
        name text NOT NULL,
        count bigint NOT NULL,
        CONSTRAINT app_event_counts_hourly_pkey PRIMARY KEY (bucket, site, name)
      )`);
    await knex.raw(`
      CREATE TABLE tracking_sites (
        id uuid PRIMARY KEY,
        key text NOT NULL UNIQUE,
        name text NOT NULL,
        allowed_origins text[] NOT NULL,
        events_per_minute integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await knex.raw('CREATE TABLE visitor_salts (day date PRIMARY KEY, salt bytea NOT NULL)');
    await knex.raw('CREATE TABLE erased_users (user_id text PRIMARY KEY, erased_at timestamptz NOT NULL DEFAULT now())');
  },
  async down(knex) {
    for (const table of ['erased_users', 'visitor_salts', 'tracking_sites', 'app_event_counts_hourly', 'app_events'])
      await knex.raw(`DROP TABLE ${table}`);
  },
};

/** The analytics schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const analyticsMigrations: Migration[] = [events, rollups, appEvents];
