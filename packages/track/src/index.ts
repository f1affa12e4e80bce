/**
 * @galion/track: a browser app's own events (page views and named events with properties) sent to
 * Galion analytics, `POST /api/v1/analytics/events`. No dependencies; see README.md for the options.
 *
 * Events wait in a bounded queue and go in batches, every `flushIntervalMs` or when `maxBatch` are
 * waiting. A batch that gets no answer, a 429 or a 5xx is sent again, unchanged (the same ids and
 * times, so the server stores it once), after 1 s, 2 s, 4 s, 8 s or what Retry-After asks. When the
 * page is hidden or left, what waits goes at once, with `navigator.sendBeacon` (a key) or a
 * `fetch` with `keepalive` (a token: a beacon cannot carry an Authorization header).
 */
import { batchSize, doNotTrack, enqueue, outcome, retryAfterMs, retryDelayMs } from './decisions.js';

/** A flat object: each value a string, a number, a boolean or null (the API: ≤ 50 keys, ≤ 8 KB). */
export type Properties = Record<string, string | number | boolean | null>;

export interface TrackerOptions {
  /** The tracking API: `https://galion.example/api/v1/analytics/events`, or a path on the page's origin. */
  endpoint: string;
  /** A site's publishable key (`pk_…`): anonymous traffic of a site whose origin the key allows. */
  key?: string;
  /**
   * The signed-in user's access token, read before each request; events are then that user's.
   * Without a key, events recorded while it returns nothing (signed out) are dropped.
   */
  token?: () => string | undefined;
  /** Record a page view on start and on each single-page navigation (default true). */
  autoPageViews?: boolean;
  /** Send nothing when the browser says Do-Not-Track or Global Privacy Control (default false). */
  respectDoNotTrack?: boolean;
  /** An id of the visitor the site chose (1–64 of `A-Za-z0-9_-`), sent with each event. */
  anonymousId?: string;
  /** Longest wait before what is queued is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events per request; reaching it sends at once (default 50, at most 500). */
  maxBatch?: number;
}

export interface Tracker {
  /** Records an event: a name (`^[A-Za-z0-9][A-Za-z0-9_.:/ -]*$`, ≤ 64 characters) and its properties. */
  track(name: string, properties?: Properties): void;
  /** Records a view of the page at the current address. */
  pageView(): void;
  /** Sends what is queued now; resolves when it was sent, tries again included, or given up. */
  flush(): Promise<void>;
  /** Sends what is queued, then records nothing more (listeners removed, history methods restored). */
  stop(): void;
}

interface TrackedEvent {
  name: string;
  id: string;
  time: string;
  url: string;
  session_id: string;
  anonymous_id?: string;
  referrer?: string;
  properties?: Properties;
}

const SESSION_KEY = 'galion_session';
const noop = (): void => undefined;

/** A random UUID; crypto.randomUUID needs a secure context (https), getRandomValues does not. */
const uuid = (): string =>
  crypto.randomUUID?.() ??
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16),
  );

let memorySession: string | undefined;
/** The tab's session: kept in sessionStorage (so it survives reloads), or in memory when storage is refused. */
const sessionId = (): string => {
  try {
    let id = sessionStorage.getItem(SESSION_KEY);
    if (!id) sessionStorage.setItem(SESSION_KEY, (id = uuid()));
    return id;
  } catch {
    return (memorySession ??= uuid());
  }
};

/** The address without its #fragment: a change of the fragment alone is no new page. */
const page = (): string => location.href.split('#')[0]!;

export const createTracker = (options: TrackerOptions): Tracker => {
  if (doNotTrack(options.respectDoNotTrack, navigator as Navigator & { globalPrivacyControl?: boolean })) {
    return { track: noop, pageView: noop, flush: () => Promise.resolve(), stop: noop };
  }
  const { endpoint, key, token, anonymousId } = options;
  const interval = options.flushIntervalMs ?? 1000;
  const max = batchSize(options.maxBatch);
  const url = key ? `${endpoint}${endpoint.includes('?') ? '&' : '?'}key=${encodeURIComponent(key)}` : endpoint;
  const queue: TrackedEvent[] = [];
  /** Batches waiting to be tried again; a page hide sends them at once. */
  const waiting = new Set<TrackedEvent[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hidden = false;
  let stopped = false;
  let lastPage: string | undefined;
  let lastUrl: string | undefined;

  /**
   * One request. With a token: JSON with the Authorization header. With a key only: the body as a
   * plain string (text/plain), a CORS "simple" request with no preflight. Neither: nothing is sent.
   */
  const post = (body: string, bearer: string | undefined, keepalive: boolean): Promise<Response> =>
    fetch(url, {
      method: 'POST',
      body,
      keepalive,
      headers: bearer ? { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' } : undefined,
    });

  const send = async (batch: TrackedEvent[], tried = 0): Promise<void> => {
    const bearer = token?.();
    if (!bearer && !key) return;
    const body = JSON.stringify({ events: batch });
    let status = 0;
    let retryAfter: string | null = null;
    try {
      // keepalive lets a request outlive the page; browsers allow 64 KB of such bodies at once.
      const response = await post(body, bearer, body.length < 20_000);
      status = response.status;
      retryAfter = response.headers.get('Retry-After');
    } catch {
      // No answer (offline, refused, CORS): tried again like a 5xx.
    }
    if (outcome(status, !!bearer) !== 'retry') return;
    const delay = retryDelayMs(tried + 1, retryAfterMs(retryAfter, Date.now()));
    if (delay === undefined) return;
    waiting.add(batch);
    await new Promise((resolve) => setTimeout(resolve, delay));
    // Gone from the set: a page hide sent it meanwhile.
    if (waiting.delete(batch)) await send(batch, tried + 1);
  };

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const sends: Promise<void>[] = [];
    while (queue.length > 0) sends.push(send(queue.splice(0, max)));
    return Promise.all(sends).then(noop);
  };

  /** The page is hidden or being left: everything waiting goes now, and no answer will be read. */
  const flushAtHide = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const batches = [...waiting];
    waiting.clear();
    while (queue.length > 0) batches.push(queue.splice(0, max));
    const bearer = token?.();
    if (!bearer && !key) return;
    for (const batch of batches) {
      const body = JSON.stringify({ events: batch });
      if (bearer || !navigator.sendBeacon?.(url, body)) post(body, bearer, true).catch(noop);
    }
  };

  const record = (event: Pick<TrackedEvent, 'name' | 'referrer' | 'properties'>): void => {
    // No key and no token now (signed out): the event is not recorded at all.
    if (stopped || (!key && !token?.())) return;
    enqueue(queue, {
      id: uuid(),
      time: new Date().toISOString(),
      url: location.href,
      session_id: sessionId(),
      ...(anonymousId ? { anonymous_id: anonymousId } : {}),
      ...event,
    });
    if (hidden) flushAtHide();
    else if (queue.length >= max) void flush();
    else timer ??= setTimeout(flush, interval);
  };

  const pageView = (): void => {
    record({ name: 'page_view', referrer: lastUrl ?? document.referrer });
    lastUrl = location.href;
    lastPage = page();
  };
  const navigated = (): void => {
    if (page() !== lastPage) pageView();
  };
  const onVisibility = (): void => {
    hidden = document.visibilityState === 'hidden';
    if (hidden) flushAtHide();
  };
  const onPageHide = (): void => {
    hidden = true;
    flushAtHide();
  };
  document.addEventListener('visibilitychange', onVisibility);
  addEventListener('pagehide', onPageHide);

  const restore: (() => void)[] = [];
  if (options.autoPageViews !== false) {
    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method];
      const wrapped = function (this: History, ...args: Parameters<History['pushState']>) {
        original.apply(this, args);
        navigated();
      };
      history[method] = wrapped;
      // Another script may have wrapped it after us: then ours stays in its chain, silenced by `stopped`.
      restore.push(() => history[method] === wrapped && (history[method] = original));
    }
    addEventListener('popstate', navigated);
    pageView();
  }

  return {
    track: (name, properties) => record(properties ? { name, properties } : { name }),
    pageView,
    flush,
    stop: () => {
      if (stopped) return;
      void flush();
      stopped = true;
      document.removeEventListener('visibilitychange', onVisibility);
      removeEventListener('pagehide', onPageHide);
      removeEventListener('popstate', navigated);
      for (const undo of restore) undo();
    },
  };
};
