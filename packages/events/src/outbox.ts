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

/** Appends events to the outbox inside the caller's transaction. */
export const appendToOutbox = async (trx: Knex.Transaction, ...events: EventEnvelope[]): Promise<void> => {
  if (events.length === 0) return;
  await trx(OUTBOX_TABLE).insert(
    events.map((event) => ({
      event_id: event.id,
      event_type: event.type,
      subject: event.subject,
      envelope: JSON.stringify(event),
    })),
  );
};
