import { outboxMigration } from '@galion/events';
import type { Migration } from '@galion/kit';

const profiles: Migration = {
  name: '0002_profiles',
  async up(knex) {
    await knex.schema.createTable('profiles', (table) => {
      table.uuid('id').primary();
      table.text('email').notNullable();
      table.text('name').notNullable();
      table.text('role').notNullable().defaultTo('user');
      table.boolean('active').notNullable().defaultTo(true);
      table.text('bio').nullable();
      table.text('avatar_url').nullable();
      table.text('locale').nullable();
      table.text('timezone').nullable();
      table.jsonb('preferences').notNullable().defaultTo('{}');
      table.boolean('is_public').notNullable().defaultTo(false);
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw(`ALTER TABLE profiles ADD CONSTRAINT profiles_role_check CHECK (role IN ('user', 'admin'))`);
    // Prefix search on email and name, and keyset pagination on each sort order.
    await knex.raw('CREATE INDEX profiles_email_prefix_idx ON profiles (lower(email) text_pattern_ops)');
    await knex.raw('CREATE INDEX profiles_name_prefix_idx ON profiles (lower(name) text_pattern_ops)');
    await knex.raw('CREATE INDEX profiles_created_idx ON profiles (created_at, id)');
    await knex.raw("CREATE INDEX profiles_admins_idx ON profiles (id) WHERE role = 'admin' AND active");
    // Deleted users, so a late or replayed registration event never brings a profile back.
    await knex.schema.createTable('deleted_users', (table) => {
      table.uuid('id').primary();
      table.timestamp('deleted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  },
  async down(knex) {
    await knex.schema.dropTable('deleted_users');
    await knex.schema.dropTable('profiles');
  },
};

/** The users schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const usersMigrations: Migration[] = [outboxMigration, profiles];
