import { rowsToRead, type KeysetPage } from '@galion/pagination';
import type { FeedList, FeedStore, ListItem, StoredEntry } from '../repositories/feed-store.js';
import { decodeFeedCursor, encodeFeedCursor, type FeedName } from './cursor.js';
import { mergeNewestFirst, nextStart, roomLeft, windowStart } from './timelines.js';

export type { StoredEntry as FeedEntry } from '../repositories/feed-store.js';

/** Rounds of reading a page may take when it meets entries that are gone (left behind by an erasure). */
const MAX_ROUNDS = 4;

export interface FeedReaderDeps {
  store: FeedStore;
  /** Deepest a home feed is read (FEED_MAX_ENTRIES). */
  maxEntries: number;
  /** Deepest the global feed is read (FEED_GLOBAL_MAX_ENTRIES). */
  globalMaxEntries: number;
  entryTtlMs: number;
  now?: () => Date;
  /** Told how many timelines each home read merged (metrics). */
  onMerge?: (timelines: number) => void;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

interface Collected {
  rows: { item: ListItem; entry: StoredEntry }[];
  /** Every list was read to its end. */
  ended: boolean;
  /** The last position read. */
  scanned: ListItem | undefined;
}

/**
 * Reads the feeds, newest first, in keyset pages: a cursor is the last entry's (time, id), so an
 * entry added between two pages never shifts the next one (no repeat, no gap). A home feed is the
 * user's own list merged with the timelines of the big accounts they follow.
 */
export class FeedReader {
  private readonly now: () => Date;

  constructor(private readonly deps: FeedReaderDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The home feed of `userId`: posts of the people they follow, comments on their posts. */
  async home(userId: string, page: PageRequest): Promise<KeysetPage<StoredEntry>> {
    const big = await this.deps.store.bigFollowees(userId);
    this.deps.onMerge?.(big.length);
    const lists: FeedList[] = [{ kind: 'home', userId }, ...big.map((id): FeedList => ({ kind: 'timeline', userId: id }))];
    return this.page('home', lists, page, this.deps.maxEntries);
  }

  /** The global feed: everyone's recent posts and comments. */
  async global(page: PageRequest): Promise<KeysetPage<StoredEntry>> {
    return this.page('global', [{ kind: 'global' }], page, this.deps.globalMaxEntries);
  }

  private async page(feed: FeedName, lists: FeedList[], page: PageRequest, maxEntries: number): Promise<KeysetPage<StoredEntry>> {
    const start = page.cursor ? decodeFeedCursor(feed, page.cursor) : { after: undefined, served: 0 };
    const room = roomLeft(page.limit, start.served, maxEntries);
    if (room === 0) return { items: [], nextCursor: null };
    const collected = await this.collect(lists, start.after, rowsToRead(room));
    const items = collected.rows.slice(0, room);
    const served = start.served + items.length;
    const next = nextStart({
      room,
      read: collected.rows.length,
      ended: collected.ended,
      lastOnPage: items.at(-1)?.item,
      scanned: collected.scanned,
      served,
      maxEntries,
    });
    return { items: items.map(({ entry }) => entry), nextCursor: next ? encodeFeedCursor(feed, { after: next, served }) : null };
  }

  /** Up to `wanted` live entries after `after`, merged from the lists; ids of gone entries are dropped from their list. */
  private async collect(lists: FeedList[], after: ListItem | undefined, wanted: number): Promise<Collected> {
    const { store } = this.deps;
    const minScore = windowStart(this.now().getTime(), this.deps.entryTtlMs);
    const rows: Collected['rows'] = [];
    let position = after;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const ask = wanted - rows.length;
      const read = await store.readLists(lists, position, ask, minScore);
      const merged = mergeNewestFirst(read, ask);
      const entries = await store.entries(merged.map(({ id }) => id));
      const gone = new Set<string>();
      merged.forEach((item, index) => {
        const entry = entries[index];
        if (entry) rows.push({ item, entry });
        else gone.add(item.id);
      });
      if (gone.size > 0) {
        // Cleaning up is a courtesy: a read does not fail for it.
        await Promise.all(
          lists.map((list, index) =>
            store
              .forget(
                list,
                read[index]!.filter(({ id }) => gone.has(id)).map(({ id }) => id),
              )
              .catch(() => undefined),
          ),
        );
      }
      position = merged.at(-1) ?? position;
      // A union shorter than asked means every list ran out.
      if (merged.length < ask) return { rows, ended: true, scanned: position };
      if (rows.length >= wanted) return { rows, ended: false, scanned: position };
    }
    return { rows, ended: false, scanned: position };
  }
}
