import { outboxMigration } from '@galion/events';
import type { Migration } from '@galion/kit';

const posts: Migration = {
  name: '0002_posts',
  async up(knex) {
    // Times are clock_timestamp(), not now() (the transaction's start): a row's place in a
    // keyset order is as close to its commit as the database can tell.
    await knex.raw(`
      CREATE TABLE posts (
        id uuid PRIMARY KEY,
        author_id uuid NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        published boolean NOT NULL DEFAULT false,
        published_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- The text search configuration the post was indexed with (POSTS_SEARCH_LANGUAGE when written).
        search_language regconfig NOT NULL,
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector(search_language, title), 'A') || setweight(to_tsvector(search_language, body), 'B')
        ) STORED,
        CONSTRAINT posts_published_at_check CHECK (published_at IS NOT NULL OR NOT published),
        CONSTRAINT posts_tags_check CHECK (cardinality(tags) <= 10)
      )`);
    // The public list, newest first, and one author's public list.
    await knex.raw('CREATE INDEX posts_published_idx ON posts (published_at DESC, id DESC) WHERE published');
    await knex.raw('CREATE INDEX posts_author_published_idx ON posts (author_id, published_at DESC, id DESC) WHERE published');
    // "Mine": an author's posts, drafts included, newest first; also the erasure of an author's posts.
    await knex.raw('CREATE INDEX posts_author_created_idx ON posts (author_id, created_at DESC, id DESC)');
    // The tag filter (tags @> ARRAY[tag]) and full-text search (search_vector @@ query).
    await knex.raw('CREATE INDEX posts_tags_idx ON posts USING gin (tags)');
    await knex.raw('CREATE INDEX posts_search_idx ON posts USING gin (search_vector)');

    await knex.raw(`
      CREATE TABLE comments (
        id uuid PRIMARY KEY,
        post_id uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        author_id uuid NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    // A post's comments, oldest first; an author's comments, for their erasure.
    await knex.raw('CREATE INDEX comments_post_created_idx ON comments (post_id, created_at, id)');
    await knex.raw('CREATE INDEX comments_author_idx ON comments (author_id)');

    // Authors whose account was deleted (user.deleted): their content went, and none is taken from them again.
    await knex.raw(`
      CREATE TABLE deleted_authors (
        id uuid PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
  },
  async down(knex) {
    await knex.schema.dropTable('deleted_authors');
    await knex.schema.dropTable('comments');
    await knex.schema.dropTable('posts');
  },
};

/** The posts schema, oldest first. Never edit a migration that has shipped; add a new one. */
export const postsMigrations: Migration[] = [outboxMigration, posts];
