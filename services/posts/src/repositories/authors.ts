import type { Knex } from '@galion/kit';

/** One advisory-lock key per author: the writes of an author and their erasure take turns on it. */
const LOCK_KEY = "hashtextextended('posts.author:' || ?, 0)";

/**
 * The authors whose account was deleted, and the lock that orders an author's writes against
 * their erasure: each write holds it shared, the erasure exclusively, so a write either commits
 * before the erasure (which then removes it) or sees the tombstone after it.
 */
export class AuthorRepository {
  constructor(private readonly knex: Knex) {}

  /** Held until the transaction ends; any number of writes at once, never with the author's erasure. */
  async lockForWrite(authorId: string, trx: Knex.Transaction): Promise<void> {
    await trx.raw(`SELECT pg_advisory_xact_lock_shared(${LOCK_KEY})`, [authorId]);
  }

  /** Held until the transaction ends; waits for the author's writes in flight. */
  async lockForErasure(authorId: string, trx: Knex.Transaction): Promise<void> {
    await trx.raw(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`, [authorId]);
  }

  async isDeleted(authorId: string, db: Knex = this.knex): Promise<boolean> {
    return (await db('deleted_authors').where({ id: authorId }).first('id')) !== undefined;
  }

  /** Leaves the tombstone; false when it was there already (the event came again). */
  async markDeleted(authorId: string, trx: Knex.Transaction): Promise<boolean> {
    const inserted = await trx('deleted_authors').insert({ id: authorId }).onConflict('id').ignore().returning('id');
    return inserted.length > 0;
  }
}
