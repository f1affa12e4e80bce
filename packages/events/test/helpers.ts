import { randomBytes } from 'node:crypto';
import { createDatabase, createLogger, migrateLatest, type Knex } from '@galion/kit';
import { testDatabase } from '@galion/localdeps';
import { appendToOutbox, createEvent, outboxMigration, type IncomingMessage } from '../src';

export const silentLogger = createLogger({ service: 'test', level: 'silent' });

export const uniqueTopic = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;

/** A fresh database holding only an outbox table. */
export const outboxDatabase = async (): Promise<{ knex: Knex; close(): Promise<void> }> => {
  const database = await testDatabase('outbox');
  const knex = createDatabase({ url: database.url, poolMax: 5 });
  await migrateLatest(knex, [outboxMigration]);
  return {
    knex,
    async close() {
      await knex.destroy();
      await database.drop();
    },
  };
};

/** Writes `count` user.logged_in events for `users` users, round robin, in one transaction. */
export const writeEvents = async (knex: Knex, count: number, users = 5) => {
  const events = Array.from({ length: count }, (_, i) =>
    createEvent('user.logged_in', { source: 'test', subject: `user-${i % users}`, data: { ip: `10.0.0.${i % 250}` } }),
  );
  await knex.transaction((trx) => appendToOutbox(trx, ...events));
  return events;
};

export const eventIds = (messages: IncomingMessage[]) => messages.map((message) => JSON.parse(message.value!.toString()).id as string);
