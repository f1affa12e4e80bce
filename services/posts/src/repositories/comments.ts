import type { Knex } from '@galion/kit';
import { timeText, type SortedRows, type TimePosition } from './posts.js';

export interface Comment {
  id: string;
  postId: string;
  authorId: string;
  body: string;
  createdAt: Date;
  updatedAt: Date;
}

interface CommentRow {
  id: string;
  post_id: string;
  author_id: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'post_id', 'author_id', 'body', 'created_at', 'updated_at'];

const toComment = (row: CommentRow): Comment => ({
  id: row.id,
  postId: row.post_id,
  authorId: row.author_id,
  body: row.body,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Comments on posts. `db` is the pool or a transaction. */
export class CommentRepository {
  constructor(private readonly knex: Knex) {}

  async insert(comment: { id: string; postId: string; authorId: string; body: string }, db: Knex): Promise<Comment> {
    const [row] = await db('comments')
      .insert({ id: comment.id, post_id: comment.postId, author_id: comment.authorId, body: comment.body })
      .returning(COLUMNS);
    return toComment(row as CommentRow);
  }

  /** The comment `id` of post `postId` (a comment of another post is not found); `lock` holds it until the transaction ends. */
  async find(postId: string, id: string, options: { db?: Knex; lock?: boolean } = {}): Promise<Comment | undefined> {
    const query = (options.db ?? this.knex)<CommentRow>('comments').where({ id, post_id: postId }).first(COLUMNS);
    if (options.lock) query.forUpdate();
    const row = (await query) as CommentRow | undefined;
    return row ? toComment(row) : undefined;
  }

  async updateBody(id: string, body: string, db: Knex): Promise<Comment | undefined> {
    const [row] = await db('comments')
      .where({ id })
      .update({ body, updated_at: db.raw('clock_timestamp()') })
      .returning(COLUMNS);
    return row ? toComment(row as CommentRow) : undefined;
  }

  async delete(id: string, db: Knex): Promise<boolean> {
    return (await db('comments').where({ id }).delete()) > 0;
  }

  /** Deletes every comment an author wrote, on any post; how many there were. */
  async deleteByAuthor(authorId: string, db: Knex): Promise<number> {
    return db('comments').where({ author_id: authorId }).delete();
  }

  /** A post's comments, oldest first by (created_at, id), strictly after `after`. */
  async listByPost(postId: string, limit: number, after?: TimePosition): Promise<SortedRows<Comment>> {
    const rows = (await this.knex('comments')
      .select([...COLUMNS, this.knex.raw(`${timeText('created_at')} AS sort_value`)])
      .where('post_id', postId)
      .modify((builder) => {
        if (after) builder.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [after.time, after.id]);
      })
      .orderByRaw('created_at ASC, id ASC')
      .limit(limit)) as (CommentRow & { sort_value: string })[];
    return { rows: rows.map(toComment), sortValues: rows.map((row) => row.sort_value) };
  }
}
