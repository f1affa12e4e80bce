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

/**
 * Follows: who follows whom, since when (docs/users.md, "Follows"). A follow goes with either profile
 * (ON DELETE CASCADE); the counts are counted on the two indexes, which also serve the keyset pages
 * (newest first) and the cascades.
 */
const follows: Migration = {
  name: '0003_follows',
  async up(knex) {
    await knex.raw(`
      CREATE TABLE follows (
        follower_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
        followee_id uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT follows_pkey PRIMARY KEY (follower_id, followee_id),
        CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
      )`);
    // A user's followers, newest first, and their count; the cascade of a followee's deletion.
    await knex.raw('CREATE INDEX follows_followers_idx ON follows (followee_id, created_at, follower_id)');
    // Whom a user follows, newest first (the primary key gives their count and the follower's cascade).
    await knex.raw('CREATE INDEX follows_following_idx ON follows (follower_id, created_at, followee_id)');
  },
  async down(knex) {
    await knex.schema.dropTable('follows');
  },
};

/**
 * Avatars from the media service: the image the profile's avatar_url comes from (null: a URL set by
 * hand, or none), and the revision of the owner's last media.avatar_changed applied, so an older
 * event that comes later changes nothing.
 */
const mediaAvatars: Migration = {
  name: '0004_media_avatars',
  async up(knex) {
    await knex.raw('ALTER TABLE profiles ADD COLUMN avatar_media_id uuid, ADD COLUMN avatar_revision bigint NOT NULL DEFAULT 0');
  },
  async down(knex) {
    await knex.raw('ALTER TABLE profiles DROP COLUMN avatar_media_id, DROP COLUMN avatar_revision');
  },
};

/** The users schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const usersMigrations: Migration[] = [outboxMigration, profiles, follows, mediaAvatars];
