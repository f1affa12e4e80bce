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
 * - user_activity: one row per user per UTC month with a bitmap of the hours (31 x 24 bits) in
 *   which the user had an event. Distinct users over any whole-hour range is then exact and costs
 *   one row per active user per month, however many events they had.
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
    // Free space on each page lets most bitmap updates be HOT (no index write).
    await knex.raw(`
      CREATE TABLE user_activity (
        month date NOT NULL,
        user_id text NOT NULL,
        hours bit(744) NOT NULL,
        CONSTRAINT user_activity_pkey PRIMARY KEY (month, user_id)
      ) WITH (fillfactor = 80)`);
  },
  async down(knex) {
    await knex.raw('DROP TABLE user_activity');
    await knex.raw('DROP TABLE event_counts_hourly');
  },
};

/** The analytics schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const analyticsMigrations: Migration[] = [events, rollups];
