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

/** The analytics schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const analyticsMigrations: Migration[] = [events, rollups];
