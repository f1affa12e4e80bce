import type { Knex, Migration } from '@galion/kit';
import type { EventEnvelope } from './schemas.js';

export const OUTBOX_TABLE = 'outbox';

/**
 * The transactional outbox: a service writes its events in the same transaction as the change
 * they announce, so an event exists exactly when its change committed. The relay publishes rows
 * in `position` order and marks them published.
 */
export const outboxMigration: Migration = {
  name: '0001_outbox',
  async up(knex) {
    await knex.schema.createTable(OUTBOX_TABLE, (table) => {
      table.bigIncrements('position').primary();
      table.uuid('event_id').notNullable().unique();
      table.text('event_type').notNullable();
      table.text('subject').notNullable();
      table.jsonb('envelope').notNullable();
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.timestamp('published_at', { useTz: true }).nullable();
      table.integer('attempts').notNullable().defaultTo(0);
    });
    await knex.raw(`CREATE INDEX outbox_pending_idx ON ${OUTBOX_TABLE} (position) WHERE published_at IS NULL`);
    await knex.raw(`CREATE INDEX outbox_published_at_idx ON ${OUTBOX_TABLE} (published_at) WHERE published_at IS NOT NULL`);
  },
  async down(knex) {
    await knex.schema.dropTable(OUTBOX_TABLE);
  },
};

/**
 * Appends events to the outbox in the caller's transaction, or on their own (an event that
 * announces no change of the caller's, written alone: one statement is its own transaction).
 */
export const appendToOutbox = async (db: Knex, ...events: EventEnvelope[]): Promise<void> => {
  if (events.length === 0) return;
  await db(OUTBOX_TABLE).insert(
    events.map((event) => ({
      event_id: event.id,
      event_type: event.type,
      subject: event.subject,
      envelope: JSON.stringify(event),
    })),
  );
};

const SQL_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The outbox INSERT for a change written with its events in one statement (a data-modifying
 * `WITH`), in place of a transaction: one round trip where `BEGIN`, the change, the events and
 * `COMMIT` take four or more. The events are stored only when the query `guard` (a `WITH` name
 * of the same statement) returns a row, so they exist exactly when the change was made.
 */
export const outboxInsertGuardedBy = (guard: string, events: EventEnvelope[]): { sql: string; bindings: string[] } => {
  if (!SQL_NAME.test(guard)) throw new Error(`not a WITH query name: ${guard}`);
  if (events.length === 0) throw new Error('no events to append');
  const rows = events.map(() => '(CAST(? AS uuid), ?, ?, CAST(? AS jsonb))').join(', ');
  return {
    sql:
      `INSERT INTO ${OUTBOX_TABLE} (event_id, event_type, subject, envelope) ` +
      `SELECT event.* FROM (VALUES ${rows}) AS event (event_id, event_type, subject, envelope) ` +
      `WHERE EXISTS (SELECT 1 FROM ${guard})`,
    bindings: events.flatMap((event) => [event.id, event.type, event.subject, JSON.stringify(event)]),
  };
};
