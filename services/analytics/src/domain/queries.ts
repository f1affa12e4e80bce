import { badRequest, forbidden } from '@galion/kit';
import { EVENT_TYPES } from '@galion/events';
import { keysetPage, rowsToRead } from '@galion/pagination';
import type { AccessClaims } from '@galion/tokens';
import type { ActiveUserRepository } from '../repositories/active-users.js';
import type { EventFilter, EventRepository, StoredEvent, TimeRange } from '../repositories/events.js';
import type { RollupRepository } from '../repositories/rollups.js';
import { ceilHour, DAY_MS, floorHour, HOUR_MS, retentionCutoff } from '../time.js';
import { decodeEventCursor, toKeysetPosition } from './event-cursor.js';

export type { EventFilter, StoredEvent, TimeRange } from '../repositories/events.js';

export type Interval = 'hour' | 'day';

/** Most buckets one timeseries answer may have (e.g. 90 days by hour, or 5 years by day). */
export const MAX_BUCKETS = 2_200;

/** Range of the aggregate queries when the caller gives none: the last 7 days. */
export const DEFAULT_RANGE_MS = 7 * DAY_MS;

/** Events in a page when the caller gives no limit. */
export const DEFAULT_PAGE_SIZE = 100;

/** A range as the caller asked for it: either end may be left out. */
export interface RequestedRange {
  from?: Date | undefined;
  to?: Date | undefined;
}

const invalidRange = () => badRequest('invalid_range', '`from` must not be after `to`.');

/** from/to of an aggregate query, with the defaults: `to` now, `from` 7 days before `to`. */
export const resolveRange = (requested: RequestedRange, now: Date): TimeRange => {
  const to = requested.to ?? (requested.from && requested.from > now ? requested.from : now);
  const from = requested.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from > to) throw invalidRange();
  return { from, to };
};

/** Admins read anyone's events, users their own; `userId` undefined means everyone's. */
const assertMayRead = (caller: AccessClaims, userId: string | undefined): void => {
  if (caller.role === 'admin') return;
  if (userId !== caller.sub) {
    throw forbidden(
      userId === undefined
        ? 'Listing every user’s events needs the admin role; pass user_id set to your own id.'
        : 'You may read only your own events.',
    );
  }
};

export interface Summary {
  from: Date;
  to: Date;
  total: number;
  byType: Record<string, number>;
  distinctUsers: number;
  firstEventAt: Date | null;
  lastEventAt: Date | null;
}

export interface TypeCount {
  type: string;
  count: number;
}

export interface EventPage {
  events: StoredEvent[];
  nextCursor: string | null;
}

export interface EventListRequest {
  filter: EventFilter;
  limit?: number | undefined;
  /** The next_cursor of the previous page. */
  cursor?: string | undefined;
}

/**
 * How a range is answered: whole hours from the rollups, the partial hours at its edges from the
 * raw events (a few thousand rows at most, by index). Where raw events have passed retention, the
 * edge hour is taken whole from the rollups instead (hour precision for old data).
 */
export const splitRange = (range: TimeRange, rawFrom: Date): { whole: TimeRange; raw: TimeRange[] } => {
  const wholeFrom = range.from < rawFrom ? floorHour(range.from) : ceilHour(range.from);
  const wholeTo = range.to <= rawFrom ? ceilHour(range.to) : floorHour(range.to);
  if (wholeFrom >= wholeTo) {
    return range.from < range.to ? { whole: { from: wholeFrom, to: wholeFrom }, raw: [range] } : { whole: range, raw: [] };
  }
  const raw: TimeRange[] = [];
  if (range.from < wholeFrom) raw.push({ from: range.from, to: wholeFrom });
  if (wholeTo < range.to) raw.push({ from: wholeTo, to: range.to });
  return { whole: { from: wholeFrom, to: wholeTo }, raw };
};

/** The whole buckets of `interval` covering a range, and each one's start (ms); 400 beyond MAX_BUCKETS. */
export const bucketLayout = (range: TimeRange, interval: Interval): { from: Date; to: Date; starts: number[] } => {
  const stride = interval === 'hour' ? HOUR_MS : DAY_MS;
  const from = new Date(Math.floor(range.from.getTime() / stride) * stride);
  const to = new Date(Math.max(from.getTime(), Math.ceil(range.to.getTime() / stride) * stride));
  const count = (to.getTime() - from.getTime()) / stride;
  if (count > MAX_BUCKETS) {
    throw badRequest(
      'too_many_buckets',
      `The range holds ${count} ${interval} buckets; at most ${MAX_BUCKETS} are returned. Narrow the range or use interval=day.`,
    );
  }
  return { from, to, starts: Array.from({ length: count }, (_, i) => from.getTime() + i * stride) };
};

const add = (into: Map<string, number>, from: Map<string, number>) => {
  for (const [type, count] of from) into.set(type, (into.get(type) ?? 0) + count);
};

export interface AnalyticsQueriesDeps {
  events: EventRepository;
  rollups: RollupRepository;
  activeUsers: ActiveUserRepository;
  retentionDays: number;
  now?: () => Date;
}

/** The questions the query API answers. Summaries read rollups; only lists read raw events. */
export class AnalyticsQueries {
  private readonly now: () => Date;

  constructor(private readonly deps: AnalyticsQueriesDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private rawFrom(): Date {
    return retentionCutoff(this.now(), this.deps.retentionDays);
  }

  /** Counts per type over the requested range, most frequent first. */
  async countsByType(requested: RequestedRange): Promise<{ from: Date; to: Date; types: TypeCount[] }> {
    const range = resolveRange(requested, this.now());
    const counts = await this.countByType(range);
    const types = [...counts].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
    return { from: range.from, to: range.to, types };
  }

  async summary(requested: RequestedRange): Promise<Summary> {
    return this.summarise(resolveRange(requested, this.now()));
  }

  private async countByType(range: TimeRange): Promise<Map<string, number>> {
    const { whole, raw } = splitRange(range, this.rawFrom());
    const [fromRollups, fromRaw] = await Promise.all([this.deps.rollups.countByType(whole), this.deps.events.countByType(raw)]);
    const counts = new Map<string, number>(EVENT_TYPES.map((type) => [type, 0]));
    add(counts, fromRollups);
    add(counts, fromRaw);
    return counts;
  }

  private async summarise(range: TimeRange): Promise<Summary> {
    const rawFrom = this.rawFrom();
    const { whole, raw } = splitRange(range, rawFrom);
    const [counts, distinctUsers, bounds] = await Promise.all([
      this.countByType(range),
      this.deps.activeUsers.distinctUsers(whole, raw),
      this.timeBounds(range, whole, rawFrom),
    ]);
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
    return {
      from: range.from,
      to: range.to,
      total,
      byType: Object.fromEntries(counts),
      distinctUsers,
      firstEventAt: total > 0 ? bounds.first : null,
      lastEventAt: total > 0 ? bounds.last : null,
    };
  }

  /** Counts per bucket over whole buckets covering [from, to), empty buckets included. */
  async timeseries(
    requested: RequestedRange,
    interval: Interval,
    type?: string,
  ): Promise<{ from: Date; to: Date; buckets: { start: Date; count: number }[] }> {
    const { from, to, starts } = bucketLayout(resolveRange(requested, this.now()), interval);
    const counts = await this.deps.rollups.countPerBucket({ from, to }, interval === 'hour' ? '1 hour' : '1 day', type);
    const buckets = starts.map((start) => ({ start: new Date(start), count: counts.get(start) ?? 0 }));
    return { from, to, buckets };
  }

  /** A page of events, newest first, if `caller` may read them. */
  async listEvents(caller: AccessClaims, { filter, limit = DEFAULT_PAGE_SIZE, cursor }: EventListRequest): Promise<EventPage> {
    assertMayRead(caller, filter.userId);
    if (filter.from && filter.to && filter.from > filter.to) throw invalidRange();
    const after = cursor ? decodeEventCursor(cursor) : undefined;
    const rows = await this.deps.events.list(filter, rowsToRead(limit), after);
    const page = keysetPage(rows, limit, (event) => toKeysetPosition({ time: event.timeText, id: event.id }));
    return { events: page.items, nextCursor: page.nextCursor };
  }

  private async timeBounds(range: TimeRange, whole: TimeRange, rawFrom: Date): Promise<{ first: Date | null; last: Date | null }> {
    let first: Date | null = null;
    let last: Date | null = null;
    if (range.from < rawFrom) {
      // Raw events are gone there: the first and last hours with events, from the rollups.
      const hours = await this.deps.rollups.hourBounds({ from: whole.from, to: whole.to < rawFrom ? whole.to : rawFrom });
      const clamp = (date: Date | null) => (date && date < range.from ? range.from : date);
      first = clamp(hours.first);
      last = clamp(hours.last);
    }
    if (range.to > rawFrom) {
      const exact = await this.deps.events.timeBounds({ from: range.from > rawFrom ? range.from : rawFrom, to: range.to });
      first ??= exact.first;
      last = exact.last ?? last;
    }
    return { first, last };
  }
}
