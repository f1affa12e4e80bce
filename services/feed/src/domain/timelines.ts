import type { ListItem } from '../repositories/feed-store.js';

/**
 * The pure decisions of reading a feed: the order, the merge of a home feed with the timelines of
 * the big accounts its user follows, how deep a feed may be read, and the window of live entries.
 */

/** Newest first: by score (event time), then by id, both descending, ids compared as bytes like Redis does. */
export const newestFirst = (a: ListItem, b: ListItem): number => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The first `count` items of the union of lists that are each newest first, newest first, each id
 * once (an entry fanned out to a home feed before its author became a big account is also on their
 * timeline). Because each list is cut to its newest items, the first `count` of the union of the
 * cut lists are the first `count` of the union of the whole lists, as long as each list was read
 * `count` deep: merging at read time gives what fan-out would have written.
 */
export const mergeNewestFirst = (lists: readonly (readonly ListItem[])[], count: number): ListItem[] => {
  if (count <= 0) return [];
  const seen = new Set<string>();
  const merged: ListItem[] = [];
  for (const item of lists.flat().sort(newestFirst)) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    merged.push(item);
    if (merged.length === count) break;
  }
  return merged;
};

/**
 * Entries a page may still hold: `limit`, unless the pages so far reach the feed's depth. A home
 * feed written by fan-out holds FEED_MAX_ENTRIES; one merged at read time stops at the same depth.
 */
export const roomLeft = (limit: number, served: number, maxEntries: number): number => Math.max(0, Math.min(limit, maxEntries - served));

/**
 * Where the next page starts, or undefined when there is none. `read` entries were found for a page
 * of `room` (asked for `room + 1`); when the reader gave up before the lists ended (too many gone
 * entries in a row), the next page starts where its scan stopped.
 */
export const nextStart = (page: {
  room: number;
  read: number;
  ended: boolean;
  lastOnPage: ListItem | undefined;
  scanned: ListItem | undefined;
  served: number;
  maxEntries: number;
}): ListItem | undefined => {
  if (page.served >= page.maxEntries) return undefined;
  if (page.read > page.room) return page.lastOnPage;
  return page.ended ? undefined : page.scanned;
};

/** The oldest score still in the feeds: entries live FEED_ENTRY_TTL_DAYS from their event time. */
export const windowStart = (now: number, entryTtlMs: number): number => Math.max(0, now - entryTtlMs);
