import { mergeNewestFirst, newestFirst, nextStart, roomLeft, windowStart } from '../src/domain/timelines';
import type { ListItem } from '../src/repositories/feed-store';

const item = (score: number, id: string): ListItem => ({ score, id });

/** A small deterministic random generator (mulberry32). */
const seeded = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

describe('the order of a feed', () => {
  it('when entries are sorted, then the newest comes first, and entries of the same millisecond by id, descending', () => {
    const items = [item(1, 'b'), item(3, 'a'), item(1, 'c'), item(2, 'z')];
    expect(items.sort(newestFirst)).toEqual([item(3, 'a'), item(2, 'z'), item(1, 'c'), item(1, 'b')]);
  });
});

describe('merging timelines', () => {
  it('when a home feed is merged with big accounts’ timelines, then the result is newest first, each entry once, cut to the count', () => {
    const home = [item(9, 'h9'), item(5, 'shared'), item(1, 'h1')];
    const star = [item(8, 's8'), item(5, 'shared'), item(2, 's2')];
    const other = [item(7, 'o7')];
    expect(mergeNewestFirst([home, star, other], 10)).toEqual([
      item(9, 'h9'),
      item(8, 's8'),
      item(7, 'o7'),
      item(5, 'shared'),
      item(2, 's2'),
      item(1, 'h1'),
    ]);
    expect(mergeNewestFirst([home, star, other], 3)).toEqual([item(9, 'h9'), item(8, 's8'), item(7, 'o7')]);
    expect(mergeNewestFirst([home, star], 0)).toEqual([]);
    expect(mergeNewestFirst([], 5)).toEqual([]);
  });

  it('when each list was cut to its newest K (as Redis trims them), then the first K of the merge are those of the whole lists: the merge gives what fan-out writes', () => {
    const random = seeded(16);
    for (let round = 0; round < 200; round += 1) {
      const k = 1 + Math.floor(random() * 8);
      const lists = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
        Array.from({ length: Math.floor(random() * 15) }, () => item(Math.floor(random() * 20), `e${Math.floor(random() * 30)}`)),
      ).map((list) => [...new Map(list.map((entry) => [entry.id, entry])).values()].sort(newestFirst));
      // An entry has one score wherever it is: make shared ids agree.
      const scores = new Map<string, number>();
      const consistent = lists.map((list) =>
        list
          .map((entry) => {
            if (!scores.has(entry.id)) scores.set(entry.id, entry.score);
            return item(scores.get(entry.id)!, entry.id);
          })
          .sort(newestFirst),
      );
      const whole = mergeNewestFirst(consistent, Number.MAX_SAFE_INTEGER).slice(0, k);
      const trimmed = mergeNewestFirst(
        consistent.map((list) => list.slice(0, k)),
        k,
      );
      expect(trimmed).toEqual(whole);
    }
  });
});

describe('how deep a feed is read', () => {
  it('when pages were served, then a page holds at most what is left of FEED_MAX_ENTRIES', () => {
    expect(roomLeft(20, 0, 1_000)).toBe(20);
    expect(roomLeft(20, 990, 1_000)).toBe(10);
    expect(roomLeft(20, 1_000, 1_000)).toBe(0);
    expect(roomLeft(20, 1_200, 1_000)).toBe(0);
  });

  it('when a page is cut, then the next starts after its last entry, none at the end of the lists or at the depth, and where the scan stopped when it gave up early', () => {
    const last = item(5, 'last');
    const scanned = item(2, 'scanned');
    const base = { room: 3, lastOnPage: last, scanned, served: 3, maxEntries: 100 };
    expect(nextStart({ ...base, read: 4, ended: false })).toBe(last);
    expect(nextStart({ ...base, read: 3, ended: true })).toBeUndefined();
    expect(nextStart({ ...base, read: 1, ended: false })).toBe(scanned);
    expect(nextStart({ ...base, read: 4, ended: false, served: 100 })).toBeUndefined();
  });

  it('when the window is asked, then it starts FEED_ENTRY_TTL_DAYS before now', () => {
    expect(windowStart(1_000_000, 400_000)).toBe(600_000);
    expect(windowStart(1_000, 400_000)).toBe(0);
  });
});
