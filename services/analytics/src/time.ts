/** UTC calendar arithmetic for partitions and rollup buckets. Everything here is UTC. */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const floorHour = (date: Date): Date => new Date(Math.floor(date.getTime() / HOUR_MS) * HOUR_MS);
export const ceilHour = (date: Date): Date => new Date(Math.ceil(date.getTime() / HOUR_MS) * HOUR_MS);
export const floorDay = (date: Date): Date => new Date(Math.floor(date.getTime() / DAY_MS) * DAY_MS);
export const ceilDay = (date: Date): Date => new Date(Math.ceil(date.getTime() / DAY_MS) * DAY_MS);
export const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * DAY_MS);

/** `YYYY-MM-DD` of a UTC day. */
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/**
 * The oldest instant whose raw events are kept: midnight UTC, `retentionDays` days before today.
 * Raw events older than this are dropped (with their whole daily partition); rollups stay.
 */
export const retentionCutoff = (now: Date, retentionDays: number): Date => addDays(floorDay(now), -retentionDays);
