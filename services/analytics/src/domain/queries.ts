import { badRequest } from '@galion/kit';
import { EVENT_TYPES } from '@galion/events';
import type { ActiveUserRepository } from '../repositories/active-users.js';
import type { EventFilter, EventRepository, StoredEvent, TimeRange } from '../repositories/events.js';
import type { RollupRepository } from '../repositories/rollups.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { ceilHour, DAY_MS, floorHour, HOUR_MS, retentionCutoff } from './time.js';

export type Interval = 'hour' | 'day';

/** Most buckets one timeseries answer may have (e.g. 90 days by hour, or 5 years by day). */
export const MAX_BUCKETS = 2_200;

export interface Summary {
  from: Date;
  to: Date;
  total: number;
  byType: Record<string, number>;
  distinctUsers: number;
  firstEventAt: Date | null;
  lastEventAt: Date | null;
}

export interface EventPage {
  events: StoredEvent[];
  nextCursor: string | null;
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

  async countByType(range: TimeRange): Promise<Map<string, number>> {
    const { whole, raw } = splitRange(range, this.rawFrom());
    const [fromRollups, fromRaw] = await Promise.all([this.deps.rollups.countByType(whole), this.deps.events.countByType(raw)]);
    const counts = new Map<string, number>(EVENT_TYPES.map((type) => [type, 0]));
    add(counts, fromRollups);
    add(counts, fromRaw);
    return counts;
  }

  async summary(range: TimeRange): Promise<Summary> {
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
    range: TimeRange,
    interval: Interval,
    type?: string,
  ): Promise<{ from: Date; to: Date; buckets: { start: Date; count: number }[] }> {
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
    const counts = await this.deps.rollups.countPerBucket({ from, to }, interval === 'hour' ? '1 hour' : '1 day', type);
    const buckets = Array.from({ length: count }, (_, i) => {
      const start = from.getTime() + i * stride;
      return { start: new Date(start), count: counts.get(start) ?? 0 };
    });
    return { from, to, buckets };
  }

  async listEvents(filter: EventFilter, limit: number, cursor?: string): Promise<EventPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.deps.events.list(filter, limit + 1, after);
    const events = rows.slice(0, limit);
    const last = events.at(-1);
    return { events, nextCursor: rows.length > limit && last ? encodeCursor({ time: last.timeText, id: last.id }) : null };
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
