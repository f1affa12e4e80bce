import { appendToOutbox, createEvent, uuidv7, type EventData, type EventEnvelope, type EventType } from '@galion/events';
import { forbidden, notFound, type Knex } from '@galion/kit';
import { keysetPage, rowsToRead, type KeysetPage } from '@galion/pagination';
import type { AuthorRepository } from '../repositories/authors.js';
import type { Post, PostRepository, PostSummary, SearchHit } from '../repositories/posts.js';
import { changePost, readPost, type Actor, type Decision } from './access.js';
import { decodeSearchCursor, decodeTimeCursor, searchPosition, timePosition } from './cursors.js';
import { planUpdate, type PostPatch } from './post-changes.js';

export type { Post, PostSummary, SearchHit } from '../repositories/posts.js';
export { EXCERPT_LENGTH } from '../repositories/posts.js';
export type { PostPatch } from './post-changes.js';
export type { Actor } from './access.js';

export const SOURCE = 'posts';

export interface NewPost {
  title: string;
  body: string;
  tags: string[];
  published: boolean;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export const postNotFound = () => notFound('No such post.', 'post_not_found');
export const accountGone = () => notFound('This account no longer exists.', 'account_not_found');

export const event = <T extends EventType>(type: T, subject: string, data: EventData<T>): EventEnvelope<T> =>
  createEvent(type, { source: SOURCE, subject, data });

/** Refuses what a decision does not allow: someone else's draft is not found, a post they may only read is forbidden. */
export const enforce = (decision: Decision, hidden: () => Error, message: string): void => {
  if (decision === 'hidden') throw hidden();
  if (decision === 'forbidden') throw forbidden(message);
};

/**
 * The start of every write: the actor's turn against their own erasure (the author lock), then
 * the refusal of an author whose account was deleted, so nothing of theirs comes back.
 */
export const writeAs = async (authors: AuthorRepository, actor: Actor, trx: Knex.Transaction): Promise<void> => {
  await authors.lockForWrite(actor.id, trx);
  if (await authors.isDeleted(actor.id, trx)) throw accountGone();
};

export interface PostServiceDeps {
  knex: Knex;
  posts: PostRepository;
  authors: AuthorRepository;
  /** The text search configuration posts are indexed and searched with. */
  searchLanguage: string;
  /** How many of the newest published matches a search ranks (the rest are not found). */
  searchRankedMatches: number;
}

/** What posts does with posts, free of HTTP. Every change and its events commit together. */
export class PostService {
  constructor(private readonly deps: PostServiceDeps) {}

  async create(actor: Actor, input: NewPost): Promise<Post> {
    return this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      const post = await this.deps.posts.insert(
        { id: uuidv7(), authorId: actor.id, ...input, searchLanguage: this.deps.searchLanguage },
        trx,
      );
      const data = { post_id: post.id, title: post.title, tags: post.tags };
      await appendToOutbox(
        trx,
        event('post.created', post.authorId, { ...data, published: post.published }),
        ...(post.published ? [event('post.published', post.authorId, data)] : []),
      );
      return post;
    });
  }

  /** A post as `actor` may see it: a draft is its author's and the admins' only (404 to anyone else). */
  async read(actor: Actor | undefined, id: string): Promise<Post> {
    const post = await this.deps.posts.findById(id);
    if (!post || readPost(post, actor) !== 'allowed') throw postNotFound();
    return post;
  }

  /** Changes a post (its author or an admin); a patch that changes nothing writes and announces nothing. */
  async update(actor: Actor, id: string, patch: PostPatch): Promise<Post> {
    return this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      const current = await this.deps.posts.findById(id, { db: trx, lock: 'update' });
      if (!current) throw postNotFound();
      enforce(changePost(current, actor), postNotFound, 'Only the post’s author or an admin may change it.');
      const plan = planUpdate(current, patch);
      if (plan.changed.length === 0) return current;
      const post = (await this.deps.posts.update(id, plan.changes, trx))!;
      await appendToOutbox(
        trx,
        event('post.updated', post.authorId, { post_id: post.id, changes: plan.changed, published: post.published }),
        ...(plan.firstPublished ? [event('post.published', post.authorId, { post_id: post.id, title: post.title, tags: post.tags })] : []),
      );
      return post;
    });
  }

  /** Deletes a post and its comments (its author or an admin). */
  async delete(actor: Actor, id: string): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      await writeAs(this.deps.authors, actor, trx);
      const post = await this.deps.posts.findById(id, { db: trx, lock: 'update' });
      if (!post) throw postNotFound();
      enforce(changePost(post, actor), postNotFound, 'Only the post’s author or an admin may delete it.');
      await this.deps.posts.delete(id, trx);
      await appendToOutbox(
        trx,
        event('post.deleted', post.authorId, { post_id: id, ...(actor.id === post.authorId ? {} : { deleted_by: actor.id }) }),
      );
    });
  }

  /** Published posts, newest first, of one author or with one tag if asked. */
  async listPublished(
    filter: { authorId?: string | undefined; tag?: string | undefined },
    page: PageRequest,
  ): Promise<KeysetPage<PostSummary>> {
    const after = page.cursor ? decodeTimeCursor('published', page.cursor) : undefined;
    const found = await this.deps.posts.listPublished({
      ...(filter.authorId ? { authorId: filter.authorId } : {}),
      ...(filter.tag ? { tag: filter.tag } : {}),
      limit: rowsToRead(page.limit),
      after,
    });
    return keysetPage(found.rows, page.limit, (post, index) => timePosition('published', found.sortValues[index]!, post.id));
  }

  /** The actor's own posts, drafts included, newest first. */
  async mine(actor: Actor, page: PageRequest): Promise<KeysetPage<PostSummary>> {
    const after = page.cursor ? decodeTimeCursor('created', page.cursor) : undefined;
    const found = await this.deps.posts.listByAuthor(actor.id, rowsToRead(page.limit), after);
    return keysetPage(found.rows, page.limit, (post, index) => timePosition('created', found.sortValues[index]!, post.id));
  }

  /**
   * Published posts matching `text` (web-search syntax: words, "quoted phrases", or, -not), best
   * first among the newest `searchRankedMatches` matches: ranking every match of a common word in
   * a million posts takes seconds, ranking the newest thousand takes milliseconds.
   */
  async search(text: string, page: PageRequest): Promise<KeysetPage<SearchHit>> {
    const after = page.cursor ? decodeSearchCursor(text, page.cursor) : undefined;
    const found = await this.deps.posts.search({
      language: this.deps.searchLanguage,
      rankedMatches: this.deps.searchRankedMatches,
      text, limit: rowsToRead(page.limit), after });
    return keysetPage(found.rows, page.limit, (hit, index) => searchPosition(text, found.sortValues[index]!, hit.id));
  }
}
