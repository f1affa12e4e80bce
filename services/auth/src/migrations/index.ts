import { outboxMigration } from '@galion/events';
import type { Migration } from '@galion/kit';

const accounts: Migration = {
  name: '0002_accounts',
  async up(knex) {
    await knex.schema.createTable('accounts', (table) => {
      table.uuid('id').primary();
      table.text('email').notNullable().unique();
      table.text('name').notNullable();
      table.text('password_hash').notNullable();
      table.text('role').notNullable().defaultTo('user');
      table.text('status').notNullable().defaultTo('active');
      table.timestamp('email_verified_at', { useTz: true }).nullable();
      table.timestamp('last_login_at', { useTz: true }).nullable();
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('user', 'admin'))`);
    await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN ('active', 'disabled'))`);
  },
  async down(knex) {
    await knex.schema.dropTable('accounts');
  },
};

const refreshTokens: Migration = {
  name: '0003_refresh_tokens',
  async up(knex) {
    await knex.schema.createTable('refresh_tokens', (table) => {
      table.uuid('id').primary();
      table.uuid('family_id').notNullable().index();
      table.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE').index();
      table.text('token_hash').notNullable().unique();
      table.timestamp('expires_at', { useTz: true }).notNullable().index();
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.timestamp('rotated_at', { useTz: true }).nullable();
      table.uuid('replaced_by').nullable();
      table.text('rotation_nonce').nullable();
      table.timestamp('revoked_at', { useTz: true }).nullable();
    });
  },
  async down(knex) {
    await knex.schema.dropTable('refresh_tokens');
  },
};

const oneTimeTokens: Migration = {
  name: '0004_one_time_tokens',
  async up(knex) {
    await knex.schema.createTable('one_time_tokens', (table) => {
      table.uuid('id').primary();
      table.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE').index();
      table.text('purpose').notNullable();
      table.text('token_hash').notNullable().unique();
      table.timestamp('expires_at', { useTz: true }).notNullable();
      table.timestamp('used_at', { useTz: true }).nullable();
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  },
  async down(knex) {
    await knex.schema.dropTable('one_time_tokens');
  },
};

/** The auth schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const authMigrations: Migration[] = [outboxMigration, accounts, refreshTokens, oneTimeTokens];
