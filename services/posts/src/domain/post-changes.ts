import type { Post, PostChanges } from '../repositories/posts.js';

/** What a caller asks to change in a post; a field left out stays. */
export interface PostPatch {
  title?: string | undefined;
  body?: string | undefined;
  tags?: string[] | undefined;
  published?: boolean | undefined;
}

export interface PlannedUpdate {
  /** The fields whose value changes, as the API names them (the post.updated event's `changes`). */
  changed: ('title' | 'body' | 'tags' | 'published')[];
  /** What the repository writes. */
  changes: PostChanges;
  /** The post is published for the first time: published_at is set and post.published is announced. */
  firstPublished: boolean;
}

const sameTags = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((tag, index) => tag === b[index]);

/**
 * The update a patch makes to a post: only the fields that differ count, so a patch that
 * changes nothing writes nothing and announces nothing. published_at is set once, when the post
 * is first published; a post back to draft and published again keeps it.
 */
export const planUpdate = (current: Post, patch: PostPatch): PlannedUpdate => {
  const changes: PostChanges = {};
  const changed: PlannedUpdate['changed'] = [];
  if (patch.title !== undefined && patch.title !== current.title) {
    changes.title = patch.title;
    changed.push('title');
  }
  if (patch.body !== undefined && patch.body !== current.body) {
    changes.body = patch.body;
    changed.push('body');
  }
  if (patch.tags !== undefined && !sameTags(patch.tags, current.tags)) {
    changes.tags = patch.tags;
    changed.push('tags');
  }
  if (patch.published !== undefined && patch.published !== current.published) {
    changes.published = patch.published;
    changed.push('published');
  }
  const firstPublished = changes.published === true && current.publishedAt === null;
  if (firstPublished) changes.publishedAt = 'now';
  return { changed, changes, firstPublished };
};
