/**
 * The admin console's app-events dashboard: the events apps send themselves (with a site's
 * publishable key or a user's token), over a range and optionally for one site: totals, a time
 * series, the event names, top pages and referrers, a property breakdown, a funnel, and the sites
 * with their keys and script tags.
 */
import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { ColumnChart } from '../chart';
import type {
  AppBreakdown,
  AppBreakdownValue,
  AppEventName,
  AppFunnel,
  AppNames,
  AppPage,
  AppPages,
  AppReferrer,
  AppReferrers,
  AppTimeseries,
  AppUniques,
  NewSite,
  Site,
  SiteList,
} from '../types';
import { ActionForm, ErrorMessage, Field, FormError, Loading, Page } from '../ui';
import { bucketLabel, Fetched, RangePicker, useApi, useGrowingList, useRange, withQuery, type ApiState, type GrowingList } from './admin-kit';

const APP = '/api/v1/analytics/app';
const SITES = '/api/v1/analytics/sites';
/** Rows per page of each table; "More" reads the next. */
const PAGE = '10';
/** The tracking API's rule for an event name. */
const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/ -]*$/;
const MAX_STEPS = 5;

// The items of each answer (stable functions: useGrowingList reads again when `pick` changes).
const pickNames = (answer: AppNames) => answer.names;
const pickPages = (answer: AppPages) => answer.pages;
const pickReferrers = (answer: AppReferrers) => answer.referrers;
const pickValues = (answer: AppBreakdown) => answer.values;

/** Query parameters every app-event query takes: the range and, when one is chosen, the site. */
type Scope = { from: string; to: string; site?: string };

const checkEventName = (name: string, what: string): void => {
  if (!name) throw new FormError(`${what}: choose an event name.`);
  if (name.length > 64 || !EVENT_NAME.test(name))
    throw new FormError(`${what}: “${name}” is not an event name (letters, digits and _ . : / - or spaces, starting with a letter or digit, up to 64).`);
};

const percent = (fraction: number): string => `${(fraction * 100).toFixed(1).replace(/\.0$/, '')}%`;

const showValue = (value: AppBreakdownValue['value']): string => value ?? '(not set)';

/** The script tag that sends a site's page views (track.js is served by Galion, beside the app). */
const snippetOf = (key: string, origin = window.location.origin): string =>
  `<script defer src="${origin}/track.js" data-key="${key}"></script>`;

/** An allowed origin as the API compares them (scheme, host and port), or a FormError. */
const originOf = (line: string): string => {
  let url: URL;
  try {
    url = new URL(line);
  } catch {
    throw new FormError(`“${line}” is not an origin: write the scheme and host, such as https://docs.example.`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/' || url.search || url.hash || url.username)
    throw new FormError(`“${line}” is not an origin: write the scheme, host and port only (http or https), such as https://docs.example.`);
  return url.origin;
};

const Section = ({ title, children }: { title: string; children: ReactNode }) => {
  const id = useId();
  return (
    <section className="app-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
};

interface Column<Item> {
  heading: string;
  cell: (item: Item) => ReactNode;
  /** The column that names the row (a row header). */
  rowHeader?: boolean;
}

/** A growing list as a table: its error, a loading note, `empty` when there is nothing, and a "More" button. */
const GrowingTable = <Item,>({
  list,
  what,
  empty,
  more,
  columns,
  label,
}: {
  list: GrowingList<Item>;
  what: string;
  empty: string;
  more: string;
  columns: Column<Item>[];
  label: string;
}) => (
  <>
    {list.error ? <ErrorMessage error={list.error} /> : null}
    {list.loading && !list.loaded ? <Loading what={what} /> : null}
    {list.loaded && list.items.length === 0 ? <p role="status">{empty}</p> : null}
    {list.items.length > 0 ? (
      <table className="grid" aria-label={label}>
        <thead>
          <tr>
            {columns.map((column, index) => (
              <th key={index} scope="col">
                {column.heading}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.items.map((item, index) => (
            // Rows are never reordered or removed: a list only grows, or starts again.
            <tr key={index}>
              {columns.map((column, at) =>
                column.rowHeader ? (
                  <th key={at} scope="row">
                    {column.cell(item)}
                  </th>
                ) : (
                  <td key={at}>{column.cell(item)}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    ) : null}
    <ErrorMessage error={list.moreError} />
    {list.hasMore && list.items.length > 0 ? (
      <p>
        <button type="button" onClick={list.more} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : more}
        </button>
      </p>
    ) : null}
  </>
);

const Totals = ({ scope, name, version }: { scope: Scope | undefined; name: string; version: number }) => {
  const uniques = useApi<AppUniques>(scope && withQuery(`${APP}/uniques`, { ...scope, name }), version);
  return (
    <Fetched state={uniques} what="the totals">
      {(data) => (
        <>
          <dl className="totals" aria-label="App event totals">
            <div>
              <dt>Events</dt>
              <dd data-testid="app-events">{data.events}</dd>
            </div>
            <div>
              <dt>Signed-in users</dt>
              <dd data-testid="app-users">{data.users}</dd>
            </div>
            <div>
              <dt>Visitors</dt>
              <dd data-testid="app-visitors">{data.visitors}</dd>
            </div>
          </dl>
          {data.events === 0 ? <p role="status">{name ? `No “${name}” events in this range.` : 'No app events in this range.'}</p> : null}
        </>
      )}
    </Fetched>
  );
};

const Series = ({ scope, name, interval, version }: { scope: Scope | undefined; name: string; interval: 'hour' | 'day'; version: number }) => {
  const series = useApi<AppTimeseries>(scope && withQuery(`${APP}/timeseries`, { ...scope, interval, name }), version);
  if (series.error) return <ErrorMessage error={series.error} />;
  if (!series.data) return series.loading ? <Loading what="the time series" /> : null;
  const data = series.data;
  return (
    <ColumnChart
      title={`${name ? `“${name}” events` : 'App events'} per ${data.interval}`}
      points={data.buckets.map((b) => ({ label: bucketLabel(data.interval, b.start), value: b.events }))}
    />
  );
};

const Breakdown = ({ scope, version, namesList }: { scope: Scope | undefined; version: number; namesList: string }) => {
  const [asked, setAsked] = useState<{ name: string; property: string }>();
  const [formError, setFormError] = useState<unknown>();
  const list = useGrowingList<AppBreakdown, AppBreakdownValue>(
    scope && asked && withQuery(`${APP}/breakdown`, { ...scope, name: asked.name, property: asked.property, limit: PAGE }),
    pickValues,
    version,
  );
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const name = String(data.get('name') ?? '').trim();
    const property = String(data.get('property') ?? '').trim();
    try {
      checkEventName(name, 'Event');
      if (!property) throw new FormError('Property: write the key of one of the event’s properties, such as plan.');
      if (property.length > 64) throw new FormError('Property: a key is at most 64 characters.');
      setFormError(undefined);
      setAsked({ name, property });
    } catch (error) {
      setFormError(error);
    }
  };
  return (
    <>
      <form className="filters" aria-label="Break down an event" onSubmit={onSubmit} noValidate>
        <label>
          Event <input name="name" list={namesList} autoComplete="off" placeholder="signup" />
        </label>
        <label>
          Property <input name="property" autoComplete="off" placeholder="plan" maxLength={64} />
        </label>
        <button type="submit">Break down</button>
      </form>
      <ErrorMessage error={formError} />
      {asked ? (
        <GrowingTable
          list={list}
          what="the breakdown"
          label={`“${asked.name}” events by ${asked.property}`}
          empty={`No “${asked.name}” event with a “${asked.property}” property in this range.`}
          more="More values"
          columns={[
            { heading: asked.property, cell: (v) => showValue(v.value), rowHeader: true },
            { heading: 'Events', cell: (v) => v.events },
            { heading: 'Visitors', cell: (v) => v.visitors },
          ]}
        />
      ) : (
        <p className="hint">Choose an event and one of its properties to see how the events split by its values.</p>
      )}
    </>
  );
};

const Funnel = ({ scope, version, namesList }: { scope: Scope | undefined; version: number; namesList: string }) => {
  const nextId = useRef(3);
  const [steps, setSteps] = useState([
    { id: 1, name: '' },
    { id: 2, name: '' },
  ]);
  const [asked, setAsked] = useState<string[]>();
  const [formError, setFormError] = useState<unknown>();
  const result = useApi<AppFunnel>(scope && asked && withQuery(`${APP}/funnel`, { ...scope, steps: asked.join(',') }), version);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    try {
      const names = steps.map((step) => step.name.trim());
      names.forEach((name, index) => checkEventName(name, `Step ${index + 1}`));
      setFormError(undefined);
      setAsked(names);
    } catch (error) {
      setFormError(error);
    }
  };
  return (
    <>
      <form aria-label="Build a funnel" onSubmit={onSubmit} noValidate>
        <p className="hint">The visitors who did each event after the ones before it, in this order (2 to {MAX_STEPS} steps).</p>
        <ol className="funnel-steps">
          {steps.map((step, index) => (
            <li key={step.id}>
              <label>
                Step {index + 1}{' '}
                <input
                  value={step.name}
                  list={namesList}
                  autoComplete="off"
                  onChange={(e) => {
                    const name = e.target.value;
                    setSteps((all) => all.map((s) => (s.id === step.id ? { ...s, name } : s)));
                  }}
                />
              </label>
              {steps.length > 2 ? (
                <button type="button" className="link" aria-label={`Remove step ${index + 1}`} onClick={() => setSteps((all) => all.filter((s) => s.id !== step.id))}>
                  Remove
                </button>
              ) : null}
            </li>
          ))}
        </ol>
        <ErrorMessage error={formError} />
        <div className="buttons">
          <button type="button" disabled={steps.length >= MAX_STEPS} onClick={() => setSteps((all) => [...all, { id: nextId.current++, name: '' }])}>
            Add a step
          </button>
          <button type="submit">Show the funnel</button>
        </div>
      </form>
      {asked ? (
        <Fetched state={result} what="the funnel">
          {(data) => (
            <>
              {data.steps[0]?.visitors === 0 ? <p role="status">No visitor did “{data.steps[0].name}” in this range.</p> : null}
              <table className="grid" aria-label="Funnel">
                <thead>
                  <tr>
                    <th scope="col">Step</th>
                    <th scope="col">Event</th>
                    <th scope="col">Visitors</th>
                    <th scope="col">Conversion</th>
                  </tr>
                </thead>
                <tbody>
                  {data.steps.map((step, index) => (
                    <tr key={index} data-testid={`funnel-step-${index + 1}`}>
                      <td>{index + 1}</td>
                      <th scope="row">{step.name}</th>
                      <td>{step.visitors}</td>
                      <td>
                        <span className="meter" aria-hidden="true">
                          <span className="bar-fill" style={{ inlineSize: `${Math.min(1, Math.max(0, step.conversion)) * 100}%` }} />
                        </span>
                        <span className="bar-value">{percent(step.conversion)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Fetched>
      ) : null}
    </>
  );
};

const SiteCard = ({ site, onChanged }: { site: Site; onChanged: () => void }) => {
  const [error, setError] = useState<unknown>();
  const [copied, setCopied] = useState<string>();
  const [busy, setBusy] = useState(false);
  const snippet = snippetOf(site.key);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied('Copied.');
    } catch {
      setCopied('The browser did not let the page copy: select the tag and copy it.');
    }
  };
  const revoke = async () => {
    if (!window.confirm(`Revoke the key of “${site.name}”? Its pages can no longer send events, and the key cannot be brought back.`)) return;
    setBusy(true);
    setError(undefined);
    try {
      await api('DELETE', `${SITES}/${encodeURIComponent(site.id)}`);
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="site-card" data-site-id={site.id}>
      <h3>
        {site.name} {site.revoked_at ? <span className="badge">revoked</span> : <span className="badge ok">active</span>}
      </h3>
      <dl className="facts">
        <dt>Key</dt>
        <dd>
          <code data-testid="site-key">{site.key}</code>
        </dd>
        <dt>Allowed origins</dt>
        <dd>{site.allowed_origins.length > 0 ? site.allowed_origins.join(', ') : 'none'}</dd>
        <dt>Events per minute</dt>
        <dd>{site.events_per_minute}</dd>
        <dt>Created</dt>
        <dd>{new Date(site.created_at).toLocaleString()}</dd>
        {site.revoked_at ? (
          <>
            <dt>Revoked</dt>
            <dd>{new Date(site.revoked_at).toLocaleString()}</dd>
          </>
        ) : null}
      </dl>
      {site.revoked_at ? null : (
        <>
          <p className="hint">Put this tag in the site’s pages: it sends a page view for each page.</p>
          <pre className="snippet" data-testid="site-snippet">
            <code>{snippet}</code>
          </pre>
          <div className="buttons">
            <button type="button" onClick={() => void copy()} aria-label={`Copy the script tag of ${site.name}`}>
              Copy the script tag
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void revoke()} aria-label={`Revoke the key of ${site.name}`}>
              Revoke the key
            </button>
            <span role="status" aria-live="polite">
              {copied}
            </span>
          </div>
        </>
      )}
      <ErrorMessage error={error} />
    </li>
  );
};

const Sites = ({ sites, onChanged }: { sites: ApiState<SiteList>; onChanged: () => void }) => {
  const [created, setCreated] = useState<Site>();
  const [formKey, setFormKey] = useState(0);
  const originsId = useId();
  const create = async (data: FormData) => {
    const name = String(data.get('name') ?? '').trim();
    if (!name) throw new FormError('Give the site a name.');
    const origins = String(data.get('allowed_origins') ?? '')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .map(originOf);
    const perMinute = Number(data.get('events_per_minute'));
    if (!Number.isInteger(perMinute) || perMinute < 1) throw new FormError('Events per minute: write a whole number, 1 or more.');
    const body: NewSite = { name, allowed_origins: [...new Set(origins)], events_per_minute: perMinute };
    setCreated(undefined);
    setCreated(await api<Site>('POST', SITES, body));
    setFormKey((k) => k + 1);
    onChanged();
  };
  return (
    <>
      <p className="hint">A site’s publishable key lets its pages send events from the browsers of the origins it allows, up to its own limit.</p>
      <Fetched state={sites} what="the sites">
        {(data) =>
          data.sites.length === 0 ? (
            <p role="status">No sites yet: create one to get a key.</p>
          ) : (
            <ul className="site-list" aria-label="Sites">
              {data.sites.map((site) => (
                <SiteCard key={site.id} site={site} onChanged={onChanged} />
              ))}
            </ul>
          )
        }
      </Fetched>
      <h3>Create a site</h3>
      {created ? <p role="status">Created “{created.name}”: its key and script tag are in the list above.</p> : null}
      <ActionForm key={formKey} label="Create a site" submit="Create the site" action={create}>
        <Field label="Name" name="name" required maxLength={100} autoComplete="off" />
        <div className="field">
          <label htmlFor={originsId}>Allowed origins</label>
          <textarea id={originsId} name="allowed_origins" rows={3} aria-describedby={`${originsId}-hint`} spellCheck={false} />
          <p className="hint" id={`${originsId}-hint`}>
            One per line, such as https://docs.example: events from pages of other origins are refused.
          </p>
        </div>
        <Field label="Events per minute" name="events_per_minute" type="number" min={1} step={1} defaultValue={6000} required hint="The site’s own limit; more is refused for a while." />
      </ActionForm>
    </>
  );
};

const AppEventsPage = () => {
  const range = useRange();
  const [site, setSite] = useState('');
  const [name, setName] = useState('');
  const [sitesVersion, setSitesVersion] = useState(0);
  const namesList = useId();
  const filterId = useId();
  const sites = useApi<SiteList>(SITES, sitesVersion);
  const scope: Scope | undefined = range.params && { ...range.params, site: site || undefined };
  const { version } = range;
  const names = useGrowingList<AppNames, AppEventName>(scope && withQuery(`${APP}/names`, { ...scope, limit: PAGE }), pickNames, version);
  const pages = useGrowingList<AppPages, AppPage>(scope && withQuery(`${APP}/pages`, { ...scope, limit: PAGE }), pickPages, version);
  const referrers = useGrowingList<AppReferrers, AppReferrer>(scope && withQuery(`${APP}/referrers`, { ...scope, limit: PAGE }), pickReferrers, version);
  const nameChoices = [...new Set([...(name ? [name] : []), ...names.items.map((n) => n.name)])];
  return (
    <Page title="App events">
      <p className="hint">The events your apps send: from the pages of a site with its key, or from an app with a user’s token.</p>
      <RangePicker range={range} />
      <div className="filters app-filters">
        <div>
          <label htmlFor={`${filterId}-site`}>Site</label>
          <select id={`${filterId}-site`} value={site} onChange={(e) => setSite(e.target.value)}>
            <option value="">All sites</option>
            {(sites.data?.sites ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.revoked_at ? `${s.name} (revoked)` : s.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${filterId}-name`}>Totals and chart of</label>
          <select id={`${filterId}-name`} value={name} onChange={(e) => setName(e.target.value)}>
            <option value="">every event</option>
            {nameChoices.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={range.refresh}>
          Refresh
        </button>
      </div>
      <datalist id={namesList}>
        {names.items.map((n) => (
          <option key={n.name} value={n.name} />
        ))}
      </datalist>
      <Totals scope={scope} name={name} version={version} />
      <Series scope={scope} name={name} interval={range.interval} version={version} />
      <Section title="Event names">
        <GrowingTable
          list={names}
          what="the event names"
          label="Event names"
          empty="No event names in this range."
          more="More event names"
          columns={[
            { heading: 'Event', cell: (n) => n.name, rowHeader: true },
            { heading: 'Events', cell: (n) => n.events },
            { heading: 'Signed-in users', cell: (n) => n.users },
            { heading: 'Visitors', cell: (n) => n.visitors },
          ]}
        />
      </Section>
      <Section title="Top pages">
        <GrowingTable
          list={pages}
          what="the pages"
          label="Top pages"
          empty="No page views in this range."
          more="More pages"
          columns={[
            { heading: 'Page', cell: (p) => p.path, rowHeader: true },
            { heading: 'Views', cell: (p) => p.views },
            { heading: 'Visitors', cell: (p) => p.visitors },
          ]}
        />
      </Section>
      <Section title="Top referrers">
        <GrowingTable
          list={referrers}
          what="the referrers"
          label="Top referrers"
          empty="No referred visits in this range."
          more="More referrers"
          columns={[
            { heading: 'Referrer', cell: (r) => r.referrer || '(none)', rowHeader: true },
            { heading: 'Visits', cell: (r) => r.visits },
            { heading: 'Visitors', cell: (r) => r.visitors },
          ]}
        />
      </Section>
      <Section title="Breakdown">
        <Breakdown scope={scope} version={version} namesList={namesList} />
      </Section>
      <Section title="Funnel">
        <Funnel scope={scope} version={version} namesList={namesList} />
      </Section>
      <Section title="Sites">
        <Sites sites={sites} onChanged={() => setSitesVersion((v) => v + 1)} />
      </Section>
    </Page>
  );
};
export default AppEventsPage;
