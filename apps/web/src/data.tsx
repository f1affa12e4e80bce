/**
 * Reading the API in a page: one result, or a keyset-paginated list that grows with "More". The
 * admin console and the content pages share these.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api } from './api';
import { ErrorMessage, Loading } from './ui';

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
  /** Changes the items shown (a comment added, edited or deleted), without reading again. */
  update: (change: (items: Item[]) => Item[]) => void;
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
  const [state, setState] = useState<{
    items: Item[];
    next: string | null;
    loading: boolean;
    loaded: boolean;
    error?: unknown;
    loadingMore: boolean;
    moreError?: unknown;
  }>({
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
      (answer) =>
        mine === generation.current &&
        setState({ items: pick(answer), next: answer.next_cursor, loading: false, loaded: true, loadingMore: false }),
      (error: unknown) =>
        mine === generation.current && setState({ items: [], next: null, loading: false, loaded: false, error, loadingMore: false }),
    );
  }, [path, reloadKey, pick]);
  const more = () => {
    if (!path || !state.next || state.loadingMore) return;
    const mine = generation.current;
    setState((s) => ({ ...s, loadingMore: true, moreError: undefined }));
    api<Answer>('GET', withQuery(path, { cursor: state.next })).then(
      (answer) =>
        mine === generation.current &&
        setState((s) => ({ ...s, items: [...s.items, ...pick(answer)], next: answer.next_cursor, loadingMore: false })),
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
    update: (change) => setState((s) => ({ ...s, items: change(s.items) })),
  };
};

/**
 * What a page shows of a growing list: its error, a loading note, `empty` when it has no item,
 * the items, and a "More" button while there are more (with the error of the last "More").
 */
export const GrowingItems = <Item,>({
  list,
  what,
  empty,
  more,
  children,
}: {
  list: GrowingList<Item>;
  /** What is loading, as in "Loading the posts…". */
  what: string;
  empty: ReactNode;
  /** The button's text: "More posts". */
  more: string;
  children: (items: Item[]) => ReactNode;
}) => (
  <>
    {list.error ? <ErrorMessage error={list.error} /> : null}
    {list.loading && !list.loaded ? <Loading what={what} /> : null}
    {list.loaded && list.items.length === 0 ? <div className="empty">{empty}</div> : null}
    {list.items.length > 0 ? children(list.items) : null}
    {list.moreError ? <ErrorMessage error={list.moreError} /> : null}
    {list.loaded && list.hasMore ? (
      <p className="more">
        <button type="button" onClick={list.more} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : more}
        </button>
      </p>
    ) : null}
  </>
);
