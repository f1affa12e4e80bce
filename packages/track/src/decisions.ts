/**
 * The tracker's decisions that need no browser: when to try a batch again and after how long,
 * whether Do-Not-Track silences it, and the bound of its queue. Kept apart so that they are
 * tested in milliseconds (test/decisions.unit.test.ts); the browser wiring is in index.ts.
 */

/** Tries of one batch, the first included. */
export const MAX_TRIES = 5;
/** Events waiting to be sent at most; past it the oldest are dropped. */
export const MAX_QUEUE = 1000;
/** The most events the API takes in one request. */
export const MAX_BATCH = 500;

/**
 * How long `Retry-After` asks to wait, in milliseconds: delay-seconds or an HTTP date; undefined
 * when the header is absent or unreadable (a date in the past is 0).
 */
export const retryAfterMs = (header: string | null | undefined, now: number): number | undefined => {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day and month (`Tue, 01 Dec 2026 10:00:07 GMT`); `-1` or `1.5` is no date.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/**
 * What an answer means for its batch: `done` (stored, or accepted in part: refused events would be
 * refused again), `retry` (no answer, 429 or 5xx: the server may take it later) or `drop` (another
 * 4xx: the same request would be refused again). `status` 0 is a network error. With a bearer
 * token a 401 is retried: the token is read again for each try, so one the app has refreshed in
 * the meantime is used.
 */
export const outcome = (status: number, withToken: boolean): 'done' | 'retry' | 'drop' =>
  status >= 200 && status < 300
    ? 'done'
    : status === 0 || status === 429 || status >= 500 || (withToken && status === 401)
      ? 'retry'
      : 'drop';

/**
 * The wait before try `tried + 1` after `tried` tries failed: 1 s, 2 s, 4 s, 8 s, or what
 * Retry-After asked; undefined once MAX_TRIES tries were made (the batch is dropped).
 */
export const retryDelayMs = (tried: number, retryAfter: number | undefined): number | undefined =>
  tried >= MAX_TRIES ? undefined : (retryAfter ?? 1000 * 2 ** (tried - 1));

/** The parts of `navigator` Do-Not-Track reads. */
export interface PrivacySignals {
  doNotTrack?: string | null;
  globalPrivacyControl?: boolean;
}

/** True when the tracker must send nothing: it was asked to respect DNT and the browser says DNT or GPC. */
export const doNotTrack = (respect: boolean | undefined, signals: PrivacySignals): boolean =>
  !!respect && (signals.doNotTrack === '1' || signals.globalPrivacyControl === true);

/** The queue after adding an event: the oldest are dropped beyond MAX_QUEUE. Changes `queue` in place. */
export const enqueue = <T>(queue: T[], item: T): T[] => {
  queue.push(item);
  if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
  return queue;
};

/** maxBatch as given, held to 1..MAX_BATCH; 50 when it is left out or not a number. */
export const batchSize = (maxBatch: number | undefined): number => {
  const size = Math.floor(maxBatch ?? 50);
  return Number.isNaN(size) ? 50 : Math.min(MAX_BATCH, Math.max(1, size));
};
