import { appendToOutbox, uuidv7 } from '@galion/events';
import { notFound, type Knex } from '@galion/kit';
import { keysetPage, rowsToRead, type KeysetPage } from '@galion/pagination';
import type { AuthorRepository } from '../repositories/authors.js';
import type { Comment, CommentRepository } from '../repositories/comments.js';
import type { Post, PostRepository } from '../repositories/posts.js';
import { commentOn, deleteComment, editComment, readPost, type Actor } from './access.js';
import { decodeTimeCursor, timePosition } from './cursors.js';
import { enforce, event, postNotFound, writeAs, type PageRequest } from './post-service.js';

export type { Comment } from '../repositories/comments.js';

export const commentNotFound = () => notFound('No such comment on this post.', 'comment_not_found');

export interface CommentServiceDeps {
  knex: Knex;
  posts: PostRepository;
  comments: CommentRepository;
  authors: AuthorRepository;
}

/** Comments on posts, free of HTTP. Every change and its event commit together. */
export class CommentService {
  constructor(private readonly deps: CommentServiceDeps) {}

  /** Comments on a published post, or the author's on their own draft. */
  async create(actor: Actor, postId: string, body: string): Promise<Comment> {
    return this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      // Held against the post's deletion until the comment is in: deleted after, the post takes it along.
      const post = await this.deps.posts.findById(postId, { db: trx, lock: 'key share' });
      if (!post) throw postNotFound();
      enforce(commentOn(post, actor), postNotFound, 'Only its author may comment on a draft.');
      const comment = await this.deps.comments.insert({ id: uuidv7(), postId, authorId: actor.id, body }, trx);
      await appendToOutbox(
        trx,
        event('comment.created', actor.id, { comment_id: comment.id, post_id: postId, post_author_id: post.authorId }),
      );
      return comment;
    });
  }

  /** A post's comments, oldest first, if `actor` may see the post; the post comes along (its visibility sets the caching). */
  async list(actor: Actor | undefined, postId: string, page: PageRequest): Promise<{ post: Post; page: KeysetPage<Comment> }> {
    const post = await this.deps.posts.findById(postId);
    if (!post || readPost(post, actor) !== 'allowed') throw postNotFound();
    const after = page.cursor ? decodeTimeCursor('comments', page.cursor) : undefined;
    const found = await this.deps.comments.listByPost(postId, rowsToRead(page.limit), after);
    return {
      post,
      page: keysetPage(found.rows, page.limit, (comment, index) => timePosition('comments', found.sortValues[index]!, comment.id)),
    };
  }

  /** Changes a comment's body (its author only). No event type announces an edit: nothing is written to the outbox. */
  async update(actor: Actor, postId: string, commentId: string, body: string): Promise<Comment> {
    return this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      const { post, comment } = await this.find(actor, postId, commentId, trx);
      enforce(editComment(post, comment, actor), postNotFound, 'Only its author may change a comment.');
      if (comment.body === body) return comment;
      return (await this.deps.comments.updateBody(commentId, body, trx))!;
    });
  }

  /** Deletes a comment: its author, the post's author or an admin. */
  async delete(actor: Actor, postId: string, commentId: string): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      const { post, comment } = await this.find(actor, postId, commentId, trx);
      enforce(deleteComment(post, comment, actor), postNotFound, 'Only the comment’s author, the post’s author or an admin may delete it.');
      await this.deps.comments.delete(commentId, trx);
      await appendToOutbox(
        trx,
        event('comment.deleted', comment.authorId, {
          comment_id: commentId,
          post_id: postId,
          ...(actor.id === comment.authorId ? {} : { deleted_by: actor.id }),
        }),
      );
    });
  }

  /**
   * The post and its comment, the comment locked for a change. A post the actor may not see is
   * not found before its comment is looked for, so the answer tells nothing of a draft.
   */
  private async find(actor: Actor, postId: string, commentId: string, trx: Knex.Transaction): Promise<{ post: Post; comment: Comment }> {
    const post = await this.deps.posts.findById(postId, { db: trx });
    if (!post || readPost(post, actor) !== 'allowed') throw postNotFound();
    const comment = await this.deps.comments.find(postId, commentId, { db: trx, lock: true });
    if (!comment) throw commentNotFound();
    return { post, comment };
  }
}
