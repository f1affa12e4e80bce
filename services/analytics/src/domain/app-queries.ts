import { badRequest } from '@galion/kit';
import { decodeCursor, encodeCursor } from '@galion/pagination';
import type { AppEventFilter, AppEventQueryRepository, Ranked } from '../repositories/app-events.js';
import { DAY_MS } from '../time.js';
import { bucketLayout, DEFAULT_PAGE_SIZE, resolveRange, type Interval, type RequestedRange } from './queries.js';
import { PAGE_VIEW } from './tracking.js';

/** Longest range the breakdowns read from raw events (names, uniques, pages, referrers, properties, funnels), by default. */
export const DEFAULT_MAX_RAW_RANGE_DAYS = 31;
/** Deepest a ranking may be paged. */
export const MAX_RANK_OFFSET = 100_000;

const NIL_ID = '00000000-0000-0000-0000-000000000000';
const RANK_ORDER = { values: 1, accepts: ([offset]: readonly string[]) => /^\d{1,6}$/.test(offset!) && Number(offset) <= MAX_RANK_OFFSET };

/**
 * Rankings (most events first) are paged by position: they are aggregates, recomputed for each
 * page, so a position says as much as a key would.
 */
const rankCursor = (offset: number): string => encodeCursor({ values: [String(offset)], id: NIL_ID });
const rankOffset = (cursor: string | undefined): number => (cursor ? Number(decodeCursor(cursor, RANK_ORDER).values[0]) : 0);

export interface AppFilter extends RequestedRange {
  site?: string | undefined;
  name?: string | undefined;
}

export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface RankedPage {
  from: Date;
  to: Date;
  rows: Ranked[];
  nextCursor: string | null;
}

export interface FunnelStep {
  name: string;
  visitors: number;
  /** Of the first step's visitors, the share who reached this one (0 when nobody did the first). */
  conversion: number;
}

/**
 * The questions asked of application events. Time series read the hourly counts, so any range
 * is cheap; the breakdowns count distinct users and visitors, which only raw events can answer
 * exactly, over at most `maxRawRangeDays`.
 */
export class AppEventQueries {
  private readonly now: () => Date;

  constructor(
    private readonly deps: { queries: AppEventQueryRepository; maxRawRangeDays: number; now?: () => Date },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  private rawFilter(requested: AppFilter): AppEventFilter {
    const range = resolveRange(requested, this.now());
    const days = (range.to.getTime() - range.from.getTime()) / DAY_MS;
    if (days > this.deps.maxRawRangeDays) {
      throw badRequest(
        'range_too_large',
        `This query reads raw events over at most ${this.deps.maxRawRangeDays} days; the range holds ${Math.ceil(days)}. Narrow it (time series cover any range).`,
      );
    }
    return { ...range, site: requested.site, name: requested.name };
  }

  private async rank(requested: AppFilter, page: PageRequest, key: string, keyBindings: string[], extra: string[] = []): Promise<RankedPage> {
    const filter = this.rawFilter(requested);
    const offset = rankOffset(page.cursor);
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.deps.queries.ranked(filter, key, keyBindings, { offset, limit: limit + 1 }, extra);
    const more = rows.length > limit && offset + limit <= MAX_RANK_OFFSET;
    return { from: filter.from, to: filter.to, rows: rows.slice(0, limit), nextCursor: more ? rankCursor(offset + limit) : null };
  }

  /** Events, users and visitors per event name. */
  names(requested: AppFilter, page: PageRequest): Promise<RankedPage> {
    return this.rank({ ...requested, name: undefined }, page, 'name', []);
  }

  async uniques(requested: AppFilter): Promise<{ from: Date; to: Date; events: number; users: number; visitors: number }> {
    const filter = this.rawFilter(requested);
    return { from: filter.from, to: filter.to, ...(await this.deps.queries.totals(filter)) };
  }

  /** Page views per path. */
  pages(requested: AppFilter, page: PageRequest): Promise<RankedPage> {
    return this.rank({ ...requested, name: PAGE_VIEW }, page, 'path', [], ['path IS NOT NULL']);
  }

  /** Page views that came from another host, per referring host. */
  referrers(requested: AppFilter, page: PageRequest): Promise<RankedPage> {
    return this.rank({ ...requested, name: PAGE_VIEW }, page, 'referrer_host', [], ['referrer_host IS NOT NULL']);
  }

  /** One event's count per value of one property (as text; null where the event lacks it). */
  breakdown(requested: AppFilter & { name: string }, property: string, page: PageRequest): Promise<RankedPage> {
    return this.rank(requested, page, 'properties ->> ?', [property]);
  }

  async funnel(requested: AppFilter, steps: string[]): Promise<{ from: Date; to: Date; steps: FunnelStep[] }> {
    const filter = this.rawFilter({ ...requested, name: undefined });
    const counts = await this.deps.queries.funnel(filter, steps);
    const first = counts[0] ?? 0;
    return {
      from: filter.from,
      to: filter.to,
      steps: steps.map((name, i) => ({ name, visitors: counts[i]!, conversion: first === 0 ? 0 : counts[i]! / first })),
    };
  }

  /** Events per hour or day, empty buckets included, from the hourly counts. */
  async timeseries(requested: AppFilter, interval: Interval): Promise<{ from: Date; to: Date; buckets: { start: Date; events: number }[] }> {
    const { from, to, starts } = bucketLayout(resolveRange(requested, this.now()), interval);
    const counts = await this.deps.queries.countPerBucket(
      { from, to, site: requested.site, name: requested.name },
      interval === 'hour' ? '1 hour' : '1 day',
    );
    return { from, to, buckets: starts.map((start) => ({ start: new Date(start), events: counts.get(start) ?? 0 })) };
  }
}


