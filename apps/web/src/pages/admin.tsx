import { lazy, Suspense, useCallback, useState, type ReactNode } from 'react';
import { Link, Route, Switch, useParams } from 'wouter';
import { api } from '../api';
import { BarList, ColumnChart } from '../chart';
import type { AuthUser, Profile } from '../types';
import { ErrorMessage, Loading, Page } from '../ui';
import { bucketLabel, Fetched, Pager, RangePicker, useApi, useCursorPages, useRange, type ApiState } from './admin-kit';

// The app-events dashboard is a script of its own, fetched when it is first opened.
const AppEventsPage = lazy(() => import('./app-events'));

interface Summary {
  from: string;
  to: string;
  total: number;
  by_type: Record<string, number>;
  distinct_users: number;
  first_event_at: string | null;
  last_event_at: string | null;
}
interface Timeseries {
  interval: 'hour' | 'day';
  buckets: { start: string; count: number }[];
}
interface AnalyticsEvent {
  id: string;
  type: string;
  user_id: string;
  source: string;
  time: string;
  data: Record<string, unknown>;
}
interface EventPage {
  events: AnalyticsEvent[];
  next_cursor: string | null;
}
interface ProfileList {
  items: Profile[];
  next_cursor: string | null;
}

/** Admin pages for admins only: anyone else gets a clear refusal, never a blank page. */
export const AdminOnly = ({ user, children }: { user: AuthUser; children: ReactNode }) =>
  user.role === 'admin' ? (
    <>
      <nav className="subnav" aria-label="Admin console">
        <Link href="/admin">Overview</Link>
        <Link href="/admin/events">Events</Link>
        <Link href="/admin/users">Users</Link>
        <Link href="/admin/app-events">App events</Link>
      </nav>
      {children}
    </>
  ) : (
    <Page title="Not allowed">
      <p role="alert">The admin console is for admins. Your account ({user.email}) is not one.</p>
      <Link href="/profile">Go to my profile</Link>
    </Page>
  );

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '—');

export const AdminOverviewPage = () => {
  const range = useRange();
  const { query, interval } = range;
  const summary = useApi<Summary>(query && `/api/v1/analytics/summary?${query}`);
  const series = useApi<Timeseries>(query && `/api/v1/analytics/timeseries?interval=${interval}&${query}`);

  return (
    <Page title="Analytics overview">
      <RangePicker range={range} />
      <Fetched state={summary} what="the summary">
        {(data) => (
          <>
            <dl className="totals" aria-label="Totals">
              <div>
                <dt>Events</dt>
                <dd data-testid="total">{data.total}</dd>
              </div>
              <div>
                <dt>Distinct users</dt>
                <dd data-testid="distinct-users">{data.distinct_users}</dd>
              </div>
              <div>
                <dt>First event</dt>
                <dd>{when(data.first_event_at)}</dd>
              </div>
              <div>
                <dt>Last event</dt>
                <dd>{when(data.last_event_at)}</dd>
              </div>
            </dl>
            {data.total === 0 ? <p role="status">No events in this range.</p> : null}
            <BarList
              title="Events by type"
              points={Object.entries(data.by_type)
                .filter(([, count]) => count > 0)
                .sort((a, b) => b[1] - a[1])
                .map(([label, value]) => ({ label, value }))}
            />
          </>
        )}
      </Fetched>
      {series.error ? <ErrorMessage error={series.error} /> : null}
      {series.data ? (
        <ColumnChart
          title={`Events per ${series.data.interval}`}
          points={series.data.buckets.map((b) => ({ label: bucketLabel(series.data!.interval, b.start), value: b.count }))}
        />
      ) : null}
    </Page>
  );
};

/** A page of events: the API's error, a loading note, `empty` when there are none, or the table. */
const EventResult = ({ state, empty }: { state: ApiState<EventPage>; empty: string }) => (
  <Fetched state={state} what="the events">
    {(data) => (data.events.length === 0 ? <p role="status">{empty}</p> : <EventTable events={data.events} />)}
  </Fetched>
);

const EventTable = ({ events }: { events: AnalyticsEvent[] }) => (
  <table className="grid">
    <thead>
      <tr>
        <th scope="col">Time</th>
        <th scope="col">Type</th>
        <th scope="col">User</th>
        <th scope="col">Source</th>
      </tr>
    </thead>
    <tbody>
      {events.map((event) => (
        <tr key={event.id} data-event-id={event.id}>
          <td>{new Date(event.time).toLocaleString()}</td>
          <td>{event.type}</td>
          <td>
            <Link href={`/admin/users/${event.user_id}`}>{event.user_id.slice(0, 8)}…</Link>
          </td>
          <td>{event.source}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

export const AdminEventsPage = () => {
  const [filters, setFilters] = useState({ type: '', user: '' });
  const key = `${filters.type}|${filters.user}`;
  const pages = useCursorPages(key);
  const params = new URLSearchParams({ limit: '25', from: new Date(0).toISOString() });
  if (filters.type) params.set('type', filters.type);
  if (filters.user) params.set('user_id', filters.user);
  if (pages.cursor) params.set('cursor', pages.cursor);
  const result = useApi<EventPage>(`/api/v1/analytics/events?${params.toString()}`);
  return (
    <Page title="Events">
      <form
        className="filters"
        aria-label="Filter the events"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          setFilters({ type: String(data.get('type') ?? '').trim(), user: String(data.get('user') ?? '').trim() });
        }}
      >
        <label>
          Type <input name="type" defaultValue={filters.type} placeholder="user.logged_in" />
        </label>
        <label>
          User id <input name="user" defaultValue={filters.user} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <EventResult state={result} empty="No events match." />
      <Pager
        page={pages.page}
        next={result.data?.next_cursor}
        onNext={() => result.data?.next_cursor && pages.next(result.data.next_cursor)}
        onPrevious={pages.previous}
      />
    </Page>
  );
};

/** A labelled select of a filter form; `options` are [value, label] pairs. */
const Select = ({ label, name, value, options }: { label: string; name: string; value: string; options: [string, string][] }) => (
  <label>
    {label}
    <select name={name} defaultValue={value}>
      {options.map(([optionValue, optionLabel]) => (
        <option key={optionValue} value={optionValue}>
          {optionLabel}
        </option>
      ))}
    </select>
  </label>
);

export const AdminUsersPage = ({ me }: { me: AuthUser }) => {
  const [query, setQuery] = useState({ q: '', role: '', status: '', sort: 'created_at', order: 'desc' });
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>();
  const pages = useCursorPages(JSON.stringify(query));
  const params = new URLSearchParams({ limit: '10', sort: query.sort, order: query.order });
  if (query.q) params.set('q', query.q);
  if (query.role) params.set('role', query.role);
  if (query.status) params.set('status', query.status);
  if (pages.cursor) params.set('cursor', pages.cursor);
  // After an action the same page is read again: `version` changes, the path does not.
  const result = useApi<ProfileList>(`/api/v1/users?${params.toString()}`, version);
  const act = useCallback(async (run: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await run();
      setVersion((v) => v + 1);
    } catch (error) {
      setActionError(error);
    }
  }, []);
  return (
    <Page title="Users">
      <form
        className="filters"
        aria-label="Search the users"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          setQuery({
            q: String(data.get('q') ?? '').trim(),
            role: String(data.get('role') ?? ''),
            status: String(data.get('status') ?? ''),
            sort: String(data.get('sort') ?? 'created_at'),
            order: String(data.get('order') ?? 'desc'),
          });
        }}
      >
        <label>
          Search <input name="q" type="search" defaultValue={query.q} placeholder="name or email" />
        </label>
        <Select
          label="Role"
          name="role"
          value={query.role}
          options={[
            ['', 'any'],
            ['user', 'user'],
            ['admin', 'admin'],
          ]}
        />
        <Select
          label="Status"
          name="status"
          value={query.status}
          options={[
            ['', 'any'],
            ['active', 'active'],
            ['inactive', 'inactive'],
          ]}
        />
        <Select
          label="Sort by"
          name="sort"
          value={query.sort}
          options={[
            ['created_at', 'joined'],
            ['name', 'name'],
            ['email', 'email'],
          ]}
        />
        <Select
          label="Order"
          name="order"
          value={query.order}
          options={[
            ['desc', 'descending'],
            ['asc', 'ascending'],
          ]}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={actionError} />
      <Fetched state={result} what="the users">
        {(data) =>
          data.items.length === 0 ? (
            <p role="status">No users match.</p>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Joined</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((user) => (
                  <tr key={user.id}>
                    <td>
                      <Link href={`/admin/users/${user.id}`}>{user.name}</Link>
                    </td>
                    <td>{user.email}</td>
                    <td>{user.role}</td>
                    <td>{user.active ? 'active' : 'inactive'}</td>
                    <td>{new Date(user.created_at).toLocaleDateString()}</td>
                    <td className="actions">
                      <button
                        type="button"
                        onClick={() =>
                          void act(() => api('PATCH', `/api/v1/users/${user.id}`, { role: user.role === 'admin' ? 'user' : 'admin' }))
                        }
                        aria-label={`${user.role === 'admin' ? 'Demote' : 'Promote'} ${user.email}`}
                      >
                        {user.role === 'admin' ? 'Demote' : 'Promote'}
                      </button>
                      <button
                        type="button"
                        onClick={() => void act(() => api('PATCH', `/api/v1/users/${user.id}`, { active: !user.active }))}
                        aria-label={`${user.active ? 'Deactivate' : 'Activate'} ${user.email}`}
                      >
                        {user.active ? 'Deactivate' : 'Activate'}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        disabled={user.id === me.id}
                        onClick={() => {
                          if (window.confirm(`Delete ${user.email} for good?`)) void act(() => api('DELETE', `/api/v1/users/${user.id}`));
                        }}
                        aria-label={`Delete ${user.email}`}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Fetched>
      <Pager
        page={pages.page}
        next={result.data?.next_cursor}
        onNext={() => result.data?.next_cursor && pages.next(result.data.next_cursor)}
        onPrevious={pages.previous}
      />
    </Page>
  );
};

export const AdminUserPage = () => {
  const { id } = useParams<{ id: string }>();
  const profile = useApi<Profile>(`/api/v1/users/${id}`);
  const pages = useCursorPages(id);
  const events = useApi<EventPage>(
    `/api/v1/analytics/users/${id}/events?limit=25${pages.cursor ? `&cursor=${encodeURIComponent(pages.cursor)}` : ''}`,
  );
  return (
    <Page title={profile.data ? profile.data.name : 'User'}>
      <Fetched state={profile} what="the profile">
        {(data) => (
          <dl className="facts">
            <dt>Email</dt>
            <dd>{data.email}</dd>
            <dt>Role</dt>
            <dd>{data.role}</dd>
            <dt>Status</dt>
            <dd>{data.active ? 'active' : 'inactive'}</dd>
            <dt>Joined</dt>
            <dd>{new Date(data.created_at).toLocaleString()}</dd>
            <dt>Bio</dt>
            <dd>{data.bio ?? '—'}</dd>
            <dt>Time zone</dt>
            <dd>{data.timezone ?? '—'}</dd>
          </dl>
        )}
      </Fetched>
      <h2>Timeline</h2>
      <EventResult state={events} empty="No events for this user." />
      <Pager
        page={pages.page}
        next={events.data?.next_cursor}
        onNext={() => events.data?.next_cursor && pages.next(events.data.next_cursor)}
        onPrevious={pages.previous}
      />
    </Page>
  );
};

/** The console, loaded on its own (a separate script) the first time an admin page is opened. */
const AdminConsole = ({ user }: { user: AuthUser }) => (
  <AdminOnly user={user}>
    <Switch>
      <Route path="/admin" component={AdminOverviewPage} />
      <Route path="/admin/events" component={AdminEventsPage} />
      <Route path="/admin/users">
        <AdminUsersPage me={user} />
      </Route>
      <Route path="/admin/users/:id" component={AdminUserPage} />
      <Route path="/admin/app-events">
        <Suspense fallback={<Loading what="the app events" />}>
          <AppEventsPage />
        </Suspense>
      </Route>
      <Route>
        <Page title="Page not found">
          <p>There is no such page in the admin console.</p>
          <Link href="/admin">Go to the overview</Link>
        </Page>
      </Route>
    </Switch>
  </AdminOnly>
);
export default AdminConsole;
