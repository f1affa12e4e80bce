import { outboxMigration } from '@galion/events';
import type { Migration } from '@galion/kit';

const media: Migration = {
  name: '0002_media',
  async up(knex) {
    // One row per owner: what they keep (the quota counts it), and the tombstone of a deleted account.
    // Every upload reserves its room here in one UPDATE that checks the quota, so concurrent uploads of
    // one user take turns on this row and can never pass the quota together.
    await knex.raw(`
      CREATE TABLE media_owners (
        id uuid PRIMARY KEY,
        files integer NOT NULL DEFAULT 0,
        bytes bigint NOT NULL DEFAULT 0,
        deleted_at timestamptz,
        CONSTRAINT media_owners_files_check CHECK (files >= 0),
        CONSTRAINT media_owners_bytes_check CHECK (bytes >= 0)
      )`);

    // An image: `pending` from its reservation until every object is stored, then `ready`. Times are
    // clock_timestamp(), the moment of the write, so a row's place in a keyset order follows the writes.
    await knex.raw(`
      CREATE TABLE media (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES media_owners (id),
        state text NOT NULL DEFAULT 'pending',
        content_type text NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        -- The bytes of the stored original, and of everything stored for it (original and thumbnails).
        bytes bigint NOT NULL,
        stored_bytes bigint NOT NULL,
        -- Each stored variant (original, small, medium, large): content_type, width, height, bytes, sha256.
        variants jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        ready_at timestamptz,
        CONSTRAINT media_state_check CHECK (state IN ('pending', 'ready')),
        CONSTRAINT media_ready_at_check CHECK ((state = 'ready') = (ready_at IS NOT NULL))
      )`);
    // "Mine": an owner's images, newest first; also their erasure.
    await knex.raw("CREATE INDEX media_owner_created_idx ON media (owner_id, created_at DESC, id DESC) WHERE state = 'ready'");
    await knex.raw('CREATE INDEX media_owner_idx ON media (owner_id)');
    // The sweep's abandoned uploads, oldest first.
    await knex.raw("CREATE INDEX media_pending_idx ON media (created_at) WHERE state = 'pending'");
  },
  async down(knex) {
    await knex.schema.dropTable('media');
    await knex.schema.dropTable('media_owners');
  },
};

const avatars: Migration = {
  name: '0003_avatars',
  async up(knex) {
    // The owner's profile picture, one of their ready images; its revision grows with every change,
    // so the users service keeps the newest whatever order the events reach it in. Deleting the
    // image clears it (the service does, with its event; the foreign key is the backstop).
    await knex.raw(`
      ALTER TABLE media_owners
        ADD COLUMN avatar_id uuid REFERENCES media (id) ON DELETE SET NULL,
        ADD COLUMN avatar_revision bigint NOT NULL DEFAULT 0`);
    await knex.raw('CREATE UNIQUE INDEX media_owners_avatar_idx ON media_owners (avatar_id) WHERE avatar_id IS NOT NULL');
  },
  async down(knex) {
    await knex.raw('ALTER TABLE media_owners DROP COLUMN avatar_id, DROP COLUMN avatar_revision');
  },
};

/** The media schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const mediaMigrations: Migration[] = [outboxMigration, media, avatars];
