/**
 * What the admin console's pages share: reading the API (one result, keyset pages, or a list that
 * grows with "More"), the range picker, and the pager.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { api } from '../api';
import { ErrorMessage, Loading } from '../ui';

export interface ApiState<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
}

/** A result of the API: loading, failed or there. No path: nothing is asked (and nothing is loading). */
export const useApi = <T,>(path: string | undefined, reloadKey = 0): ApiState<T> => {
  const [state, setState] = useState<ApiState<T>>({ loading: path !== undefined });
  useEffect(() => {
    if (!path) {
      setState((s) => (s.loading ? { ...s, loading: false } : s));
      return;
    }
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path).then(
      (data) => !cancelled && setState({ data, loading: false }),
      (error: unknown) => !cancelled && setState({ error, loading: false }),
    );
    return () => {
      cancelled = true;
    };
  }, [path, reloadKey]);
  return state;
};

/** What a page shows of one API result: its error, a loading note, or `children` of the data. */
export const Fetched = <T,>({ state, what, children }: { state: ApiState<T>; what: string; children: (data: T) => ReactNode }) => (
  <>
    {state.error ? <ErrorMessage error={state.error} /> : null}
    {state.loading && !state.data ? <Loading what={what} /> : null}
    {state.data ? children(state.data) : null}
  </>
);

/** `path` with the query parameters that have a value. */
export const withQuery = (path: string, params: Record<string, string | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const query = search.toString();
  return query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
};

export interface GrowingList<Item> {
  items: Item[];
  /** The first page is loading (or reloading). */
  loading: boolean;
  /** The first page has arrived. */
  loaded: boolean;
  error?: unknown;
  hasMore: boolean;
  loadingMore: boolean;
  moreError?: unknown;
  more: () => void;
}

/**
 * A keyset-paginated list shown as one growing table: the first page of `path`, then each "More"
 * appends the page after `next_cursor`. A new `path` (or `reloadKey`) starts again from the first
 * page. `pick` takes the items out of an answer; it must not change between renders.
 */
export const useGrowingList = <Answer extends { next_cursor: string | null }, Item>(
  path: string | undefined,
  pick: (answer: Answer) => Item[],
  reloadKey = 0,
): GrowingList<Item> => {
  const [state, setState] = useState<{ items: Item[]; next: string | null; loading: boolean; loaded: boolean; error?: unknown; loadingMore: boolean; moreError?: unknown }>({
    items: [],
    next: null,
    loading: path !== undefined,
    loaded: false,
    loadingMore: false,
  });
  // Answers to an older path (or an older reload) are dropped.
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    if (!path) {
      setState({ items: [], next: null, loading: false, loaded: false, loadingMore: false });
      return;
    }
    setState((s) => ({ ...s, loading: true, error: undefined, moreError: undefined }));
    api<Answer>('GET', path).then(
      (answer) => mine === generation.current && setState({ items: pick(answer), next: answer.next_cursor, loading: false, loaded: true, loadingMore: false }),
      (error: unknown) => mine === generation.current && setState({ items: [], next: null, loading: false, loaded: false, error, loadingMore: false }),
    );
  }, [path, reloadKey, pick]);
  const more = () => {
    if (!path || !state.next || state.loadingMore) return;
    const mine = generation.current;
    setState((s) => ({ ...s, loadingMore: true, moreError: undefined }));
    api<Answer>('GET', withQuery(path, { cursor: state.next })).then(
      (answer) =>
        mine === generation.current && setState((s) => ({ ...s, items: [...s.items, ...pick(answer)], next: answer.next_cursor, loadingMore: false })),
      (error: unknown) => mine === generation.current && setState((s) => ({ ...s, loadingMore: false, moreError: error })),
    );
  };
  return {
    items: state.items,
    loading: state.loading,
    loaded: state.loaded,
    error: state.error,
    hasMore: state.next !== null,
    loadingMore: state.loadingMore,
    moreError: state.moreError,
    more,
  };
};

const PRESETS = [
  { id: '24h', label: 'Last 24 hours', hours: 24 },
  { id: '7d', label: 'Last 7 days', hours: 24 * 7 },
  { id: '30d', label: 'Last 30 days', hours: 24 * 30 },
] as const;

/** datetime-local wants local time without seconds. */
const toLocalInput = (date: Date): string => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export interface RangeChoice {
  preset: string;
  setPreset: (preset: string) => void;
  custom: { from: string; to: string };
  setCustom: (change: (custom: { from: string; to: string }) => { from: string; to: string }) => void;
  valid: boolean;
  /** `from` and `to` as the analytics queries take them; undefined while the range is not valid. */
  params?: { from: string; to: string };
  /** `from=…&to=…`, or undefined while the range is not valid. */
  query?: string;
  /** Hours for a range of up to two days, else days. */
  interval: 'hour' | 'day';
  /** Bumped by `refresh`: a reload key for the queries of the range. */
  version: number;
  /** Moves a preset's end to now and reads everything again. */
  refresh: () => void;
}

/** The range an analytics page reads: a preset (the last 24 hours, 7 or 30 days, ending now) or a custom one. */
export const useRange = (): RangeChoice => {
  const [preset, setPreset] = useState<string>('7d');
  const [custom, setCustom] = useState(() => ({ from: toLocalInput(new Date(Date.now() - 7 * 86_400_000)), to: toLocalInput(new Date()) }));
  const [now, setNow] = useState(() => Date.now());
  const [version, setVersion] = useState(0);
  const chosen = PRESETS.find((p) => p.id === preset);
  const range = chosen ? { from: new Date(now - chosen.hours * 3_600_000), to: new Date(now) } : { from: new Date(custom.from), to: new Date(custom.to) };
  const valid = !Number.isNaN(range.from.getTime()) && !Number.isNaN(range.to.getTime()) && range.from < range.to;
  const params = valid ? { from: range.from.toISOString(), to: range.to.toISOString() } : undefined;
  return {
    preset,
    setPreset,
    custom,
    setCustom,
    valid,
    params,
    query: params ? `from=${encodeURIComponent(params.from)}&to=${encodeURIComponent(params.to)}` : undefined,
    interval: range.to.getTime() - range.from.getTime() <= 2 * 86_400_000 ? 'hour' : 'day',
    version,
    refresh: () => {
      setNow(Date.now());
      setVersion((v) => v + 1);
    },
  };
};

/** The range picker: the presets, or a custom start and end. */
export const RangePicker = ({ range }: { range: RangeChoice }) => {
  const group = useId();
  return (
    <>
      <fieldset className="range">
        <legend>Range</legend>
        {PRESETS.map((p) => (
          <label key={p.id} className="choice">
            <input type="radio" name={group} value={p.id} checked={range.preset === p.id} onChange={() => range.setPreset(p.id)} />
            {p.label}
          </label>
        ))}
        <label className="choice">
          <input type="radio" name={group} value="custom" checked={range.preset === 'custom'} onChange={() => range.setPreset('custom')} />
          Custom
        </label>
        {range.preset === 'custom' ? (
          <div className="custom-range">
            <label>
              From <input type="datetime-local" value={range.custom.from} onChange={(e) => range.setCustom((c) => ({ ...c, from: e.target.value }))} />
            </label>
            <label>
              To <input type="datetime-local" value={range.custom.to} onChange={(e) => range.setCustom((c) => ({ ...c, to: e.target.value }))} />
            </label>
          </div>
        ) : null}
      </fieldset>
      {!range.valid ? <p role="alert">The start of the range must be before its end.</p> : null}
    </>
  );
};

/** A time series bucket's label: date and time for hours, the date for days. */
export const bucketLabel = (interval: 'hour' | 'day', start: string): string =>
  interval === 'hour' ? new Date(start).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : new Date(start).toLocaleDateString();

/** Keyset pages: the cursors of the pages seen so far, so Previous works too. */
export const useCursorPages = (key: string) => {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), [key]);
  return {
    cursor: cursors.at(-1),
    page: cursors.length,
    next: (cursor: string) => setCursors((c) => [...c, cursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
};

export const Pager = ({
  page,
  next,
  onNext,
  onPrevious,
}: {
  page: number;
  next: string | null | undefined;
  onNext: () => void;
  onPrevious: () => void;
}) => (
  <nav className="pager" aria-label="Pages">
    <button type="button" onClick={onPrevious} disabled={page <= 1}>
      Previous
    </button>
    <span>Page {page}</span>
    <button type="button" onClick={onNext} disabled={!next}>
      Next
    </button>
  </nav>
);
