/**
 * What the admin console's pages share: reading the API (one result, or a list that grows with
 * "More", from ../data, which the content pages use too), keyset pages, the range picker, and the pager.
 */
import { useEffect, useId, useState } from 'react';

export { Fetched, useApi, useGrowingList, withQuery, type ApiState, type GrowingList } from '../data';

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
