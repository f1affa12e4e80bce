import type { EventEnvelope } from '@galion/events';
import type { Knex, Logger } from '@galion/kit';
import type { AuthorRepository } from '../repositories/authors.js';
import type { CommentRepository } from '../repositories/comments.js';
import type { PostRepository } from '../repositories/posts.js';
import { SOURCE } from './post-service.js';

/** What the erasure of one deleted user removed; zero and zero when their event came again. */
export interface Erasure {
  userId: string;
  posts: number;
  comments: number;
  /** False when the user was already erased (a redelivered event): nothing was left to remove. */
  first: boolean;
}

export interface AuthorErasureDeps {
  knex: Knex;
  posts: PostRepository;
  comments: CommentRepository;
  authors: AuthorRepository;
  logger: Logger;
}

/**
 * A deleted user's content goes (docs/posts.md, Deleted accounts): their posts, with every
 * comment on them, and their comments on other posts, removed rather than anonymised. A tombstone
 * stays, so a write of theirs still in flight or arriving late is refused. Idempotent: an event
 * delivered again finds nothing left.
 */
export class AuthorErasure {
  constructor(private readonly deps: AuthorErasureDeps) {}

  /** Applies the `user.deleted` events among `events` in one transaction; the others are not posts' business. */
  async apply(events: readonly EventEnvelope[]): Promise<Erasure[]> {
    const userIds = [
      ...new Set(events.filter((event) => event.type === 'user.deleted' && event.source !== SOURCE).map((event) => event.subject)),
    ];
    if (userIds.length === 0) return [];
    const erasures = await this.deps.knex.transaction(async (trx) => {
      const done: Erasure[] = [];
      for (const userId of userIds) done.push(await this.erase(userId, trx));
      return done;
    });
    for (const erasure of erasures) {
      if (erasure.first)
        this.deps.logger.info(
          { user_id: erasure.userId, posts: erasure.posts, comments: erasure.comments },
          'a deleted user’s posts and comments were removed',
        );
    }
    return erasures;
  }

  private async erase(userId: string, trx: Knex.Transaction): Promise<Erasure> {
    // Waits for the user's writes in flight; those after it see the tombstone.
    await this.deps.authors.lockForErasure(userId, trx);
    const first = await this.deps.authors.markDeleted(userId, trx);
    const comments = await this.deps.comments.deleteByAuthor(userId, trx);
    const posts = await this.deps.posts.deleteByAuthor(userId, trx);
    return { userId, posts, comments, first };
  }
}
