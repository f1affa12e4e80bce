/** UTC calendar arithmetic for partitions, rollup buckets and activity bitmaps. Everything here is UTC. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Bits in a user's monthly activity bitmap: one per hour of the longest month (31 x 24). */
export const HOURS_PER_MONTH_BITMAP = 744;

export const floorHour = (date: Date): Date => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
export const ceilHour = (date: Date): Date => new Date(Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS);
export const floorDay = (date: Date): Date => new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
export const ceilDay = (date: Date): Date => new Date(Math.ceil(date.getTime() / DAY_MS) * DAY_MS);
export const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);

export const monthStart = (date: Date): Date => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
export const nextMonth = (date: Date): Date => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));

/** `YYYY-MM-DD` of a UTC day. */
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** Position of an hour in its month's activity bitmap. */
export const hourOfMonth = (date: Date): number => (date.getUTCDate() - 1) * 24 + date.getUTCHours();

export interface MonthMask {
  /** First day of the month, `YYYY-MM-DD`. */
  month: string;
  /** 744 characters of 0 and 1: the hours of the month that a query covers. */
  mask: string;
}

/**
 * The hours of [from, to) as one bitmap per month, to match against users' monthly activity bitmaps.
 * Both bounds must be whole hours.
 */
export const monthMasks = (from: Date, to: Date): MonthMask[] => {
  const masks: MonthMask[] = [];
  for (let month = monthStart(from); month < to; month = nextMonth(month)) {
    const start = from > month ? hourOfMonth(from) : 0;
    const end = to < nextMonth(month) ? hourOfMonth(new Date(to.getTime() - HOUR_MS)) + 1 : HOURS_PER_MONTH_BITMAP;
    if (end <= start) continue;
    masks.push({
      month: isoDay(month),
      mask: '0'.repeat(start) + '1'.repeat(end - start) + '0'.repeat(HOURS_PER_MONTH_BITMAP - end),
    });
  }
  return masks;
};

/**
 * The oldest instant whose raw events are kept: midnight UTC, `retentionDays` days before today.
 * Raw events older than this are dropped (with their whole daily partition); rollups stay.
 */
export const retentionCutoff = (now: Date, retentionDays: number): Date => addDays(floorDay(now), -retentionDays);
