import { decodeCursor, encodeCursor, type CursorShape } from '@galion/pagination';
import type { ListItem } from '../repositories/feed-store.js';

/** Which feed a cursor pages: a cursor of one handed to the other is `400 invalid_cursor`. */
export type FeedName = 'home' | 'global';

/**
 * Where a page of a feed ended: the last entry's score (event time in ms) and id, the keyset order
 * being newest first by (score, id), and how many entries the pages so far served (a feed is read
 * at most FEED_MAX_ENTRIES deep, merged or not).
 */
export interface FeedPosition {
  after: ListItem;
  served: number;
}

const SCORE = /^\d{1,16}$/;
const SERVED = /^\d{1,7}$/;

const shape = (feed: FeedName): CursorShape => ({
  values: 3,
  accepts: ([name, score, served]) =>
    name === feed && score !== undefined && SCORE.test(score) && served !== undefined && SERVED.test(served),
});

export const encodeFeedCursor = (feed: FeedName, position: FeedPosition): string =>
  encodeCursor({ values: [feed, String(position.after.score), String(position.served)], id: position.after.id });

/** The position a cursor of `feed` holds; `400 invalid_cursor` for anything else. */
export const decodeFeedCursor = (feed: FeedName, cursor: string): FeedPosition => {
  const { values, id } = decodeCursor(cursor, shape(feed));
  return { after: { score: Number(values[1]), id: id.toLowerCase() }, served: Number(values[2]) };
};
