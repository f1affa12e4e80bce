import type { Role } from '@galion/tokens';

/** Who asks: a token's user, or nobody (an anonymous public read). */
export interface Actor {
  id: string;
  role: Role;
}

/**
 * What a caller may do to a post or a comment, decided from the data alone:
 * - `allowed`;
 * - `hidden`: the caller may not know it exists (someone else's draft), answered 404, never 403;
 * - `forbidden`: they can see it but not do this, answered 403.
 */
export type Decision = 'allowed' | 'hidden' | 'forbidden';

interface PostFacts {
  authorId: string;
  published: boolean;
}

const isAdmin = (actor: Actor | undefined): boolean => actor?.role === 'admin';
const isAuthor = (post: { authorId: string }, actor: Actor | undefined): boolean => actor !== undefined && actor.id === post.authorId;

/** A published post is anyone's to read; a draft only its author's and the admins'. */
export const canSeePost = (post: PostFacts, actor: Actor | undefined): boolean => post.published || isAuthor(post, actor) || isAdmin(actor);

const decide = (visible: boolean, allowed: boolean): Decision => (!visible ? 'hidden' : allowed ? 'allowed' : 'forbidden');

export const readPost = (post: PostFacts, actor: Actor | undefined): Decision => decide(canSeePost(post, actor), true);

/** Changing or deleting a post: its author or an admin. */
export const changePost = (post: PostFacts, actor: Actor): Decision =>
  decide(canSeePost(post, actor), isAuthor(post, actor) || isAdmin(actor));

/** Commenting: on a published post, or by the author on their own draft (an admin sees a draft, but does not comment on it). */
export const commentOn = (post: PostFacts, actor: Actor): Decision =>
  decide(canSeePost(post, actor), post.published || isAuthor(post, actor));

/** Editing a comment: its author only. */
export const editComment = (post: PostFacts, comment: { authorId: string }, actor: Actor): Decision =>
  decide(canSeePost(post, actor), isAuthor(comment, actor));

/** Deleting a comment: its author, the post's author or an admin. */
export const deleteComment = (post: PostFacts, comment: { authorId: string }, actor: Actor): Decision =>
  decide(canSeePost(post, actor), isAuthor(comment, actor) || isAuthor(post, actor) || isAdmin(actor));
