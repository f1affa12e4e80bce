/**
 * The admin console's app-events dashboard in a real browser (Debian's Chromium) against the
 * platform as `npm start` runs it: the bootstrap admin creates a site in the page, the site's pages
 * (this test, with the site's key and an allowed Origin) send events, and the dashboard shows them:
 * totals, the time series, the event names with "More", top pages and referrers, a breakdown, a
 * funnel, the site's key and script tag; then the key is revoked. Empty and error states too.
 */
import { pollFor } from '@galion/localdeps';
import type { Page } from 'playwright-core';
import { webSuite } from './browser';

jest.setTimeout(180_000);

const suite = webSuite();
const { look, violations } = suite;

const ORIGIN = 'https://docs.example';

const logInAsAdmin = async (page: Page): Promise<void> => {
  await page.goto(`${suite.platform.url}/login`);
  await page.getByLabel('Email', { exact: true }).fill(suite.platform.admin.email);
  await page.getByLabel('Password', { exact: true }).fill(suite.platform.admin.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'My profile' }).waitFor();
};

const openDashboard = async (page: Page): Promise<void> => {
  await page.getByRole('link', { name: 'Admin console' }).click();
  await page.getByRole('link', { name: 'App events' }).click();
  await page.getByRole('heading', { name: 'App events', level: 1 }).waitFor();
};

/** What a site's pages send: `POST /api/v1/analytics/events?key=…` from `origin`. */
const track = async (key: string, events: unknown[], options: { origin?: string; contentType?: string } = {}) => {
  const response = await fetch(`${suite.platform.url}/api/v1/analytics/events?key=${encodeURIComponent(key)}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json', origin: options.origin ?? ORIGIN },
    body: JSON.stringify({ events }),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as { accepted?: number; refused?: number; error?: string } };
};

/** The rows of the table named `name`, each as its cells' texts. */
const rowsOf = (page: Page, name: string): Promise<string[][]> =>
  page
    .getByRole('table', { name, exact: true })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => Array.from(row.children, (cell) => (cell as HTMLElement).innerText.trim())));

/** The events of three visitors on the site, ten minutes ago, a second apart, in order. */
const visitorEvents = () => {
  const start = Date.now() - 10 * 60_000;
  let at = 0;
  const event = (visitor: string, name: string, extra: Record<string, unknown> = {}) => ({
    id: crypto.randomUUID(),
    time: new Date(start + 1000 * at++).toISOString(),
    session_id: `session-${visitor}`,
    anonymous_id: `visitor-${visitor}`,
    name,
    ...extra,
  });
  const view = (visitor: string, path: string, referrer: string) => event(visitor, 'page_view', { url: `${ORIGIN}${path}?utm=x`, referrer });
  return [
    view('a', '/pricing', 'https://google.com/search?q=galion'),
    event('a', 'signup_started', { properties: { plan: 'pro' } }),
    event('a', 'signup_completed', { properties: { plan: 'pro' } }),
    view('b', '/pricing', 'https://news.example/item/1'),
    view('b', '/docs', ''),
    event('b', 'signup_started', { properties: { plan: 'free' } }),
    view('c', '/docs', 'https://google.com/'),
    event('c', 'signup_started', { properties: { plan: 'pro' } }),
    event('c', 'signup_completed', { properties: { plan: 'pro', seats: 3 } }),
    // Ten more names, one event each: more than a page (10) of names.
    ...Array.from({ length: 10 }, (_, i) => event('a', `feature_${String(i + 1).padStart(2, '0')}`, { properties: { beta: true } })),
  ];
};

describe('the app-events dashboard', () => {
  test('when an admin creates a site and its pages send events, then the dashboard shows them, with a breakdown, a funnel and the script tag', async () => {
    const context = await suite.browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    try {
      await logInAsAdmin(page);
      await openDashboard(page);
      await page.getByRole('heading', { name: 'Sites' }).waitFor();
      await page.getByText('No sites yet: create one to get a key.').waitFor();
      await look(page, 'admin-app-events-empty');

      // A site, made in the page.
      const siteName = `Docs site ${Date.now().toString(36)}`;
      const form = page.getByRole('form', { name: 'Create a site' });
      await form.getByLabel('Name', { exact: true }).fill(siteName);
      await form.getByLabel('Allowed origins').fill(`${ORIGIN}/\nhttp://localhost:3000`);
      await form.getByLabel('Events per minute').fill('600');
      await form.getByRole('button', { name: 'Create the site' }).click();
      await page.getByText(`Created “${siteName}”`).waitFor();
      const card = page.locator('.site-card', { has: page.getByRole('heading', { name: siteName }) });
      const key = (await card.getByTestId('site-key').innerText()).trim();
      expect(key).toMatch(/^pk_[A-Za-z0-9]{24}$/);
      const snippet = `<script defer src="${suite.platform.url}/track.js" data-key="${key}"></script>`;
      expect((await card.getByTestId('site-snippet').innerText()).trim()).toBe(snippet);
      expect(await card.locator('dd', { hasText: ORIGIN }).innerText()).toBe(`${ORIGIN}, http://localhost:3000`);
      await card.getByRole('button', { name: `Copy the script tag of ${siteName}` }).click();
      await card.getByText('Copied.').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippet);

      // Its pages send events: one batch as sendBeacon sends it (text/plain), one as JSON.
      const events = visitorEvents();
      const first = await track(key, events.slice(0, 9), { contentType: 'text/plain;charset=UTF-8' });
      expect(first).toMatchObject({ status: 202, body: { accepted: 9, refused: 0 } });
      const second = await track(key, events.slice(9));
      expect(second).toMatchObject({ status: 202, body: { accepted: 10, refused: 0 } });
      expect((await track(key, events.slice(0, 1), { origin: 'https://elsewhere.example' })).status).toBe(403);

      // Only this site's events (the web app's own page views are not its).
      await page.getByLabel('Site', { exact: true }).selectOption({ label: siteName });
      await pollFor(
        'the site’s 19 events on the dashboard',
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          await page.waitForTimeout(300);
          return (await page.getByTestId('app-events').innerText().catch(() => '')) === '19' ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 700 },
      );
      expect({ users: await page.getByTestId('app-users').innerText(), visitors: await page.getByTestId('app-visitors').innerText() }).toEqual({
        users: '0',
        visitors: '3',
      });
      await page.locator('figcaption', { hasText: /^App events per day$/ }).waitFor();
      const perBucket = await page
        .locator('figure.chart details tbody td')
        .evaluateAll((cells) => cells.map((cell) => Number(cell.textContent)));
      expect(perBucket.reduce((a, b) => a + b, 0)).toBe(19);

      // The names: a page of 10, then "More" brings the rest.
      await pollFor('the names table', async () => ((await rowsOf(page, 'Event names')).length === 10 ? true : undefined));
      const firstNames = await rowsOf(page, 'Event names');
      expect(firstNames.slice(0, 3)).toEqual([
        ['page_view', '4', '0', '3'],
        ['signup_started', '3', '0', '3'],
        ['signup_completed', '2', '0', '2'],
      ]);
      await page.getByRole('button', { name: 'More event names' }).click();
      await pollFor('the rest of the names', async () => ((await rowsOf(page, 'Event names')).length === 13 ? true : undefined));
      const allNames = await rowsOf(page, 'Event names');
      expect(allNames.slice(0, 10)).toEqual(firstNames);
      expect(allNames.slice(3).map((row) => row[0]).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `feature_${String(i + 1).padStart(2, '0')}`));
      expect(await page.getByRole('button', { name: 'More event names' }).count()).toBe(0);

      // Pages (the path only) and referrers (the host only).
      expect((await rowsOf(page, 'Top pages')).sort()).toEqual([
        ['/docs', '2', '2'],
        ['/pricing', '2', '2'],
      ]);
      const referrers = await rowsOf(page, 'Top referrers');
      expect(referrers[0]).toEqual(['google.com', '2', '2']);
      expect(referrers).toContainEqual(['news.example', '1', '1']);

      // The totals and the chart of one event.
      await page.getByLabel('Totals and chart of').selectOption('signup_completed');
      await page.locator('figcaption', { hasText: /^“signup_completed” events per day$/ }).waitFor();
      await pollFor('the totals of signup_completed', async () => ((await page.getByTestId('app-events').innerText()) === '2' ? true : undefined));
      expect(await page.getByTestId('app-visitors').innerText()).toBe('2');
      await page.getByLabel('Totals and chart of').selectOption('');

      // A breakdown by a property.
      const breakdown = page.getByRole('form', { name: 'Break down an event' });
      await breakdown.getByLabel('Event').fill('signup_started');
      await breakdown.getByLabel('Property').fill('plan');
      await breakdown.getByRole('button', { name: 'Break down' }).click();
      await page.getByRole('table', { name: '“signup_started” events by plan' }).waitFor();
      expect(await rowsOf(page, '“signup_started” events by plan')).toEqual([
        ['pro', '2', '2'],
        ['free', '1', '1'],
      ]);

      // A funnel of three steps.
      const funnel = page.getByRole('form', { name: 'Build a funnel' });
      await funnel.getByLabel('Step 1', { exact: true }).fill('page_view');
      await funnel.getByLabel('Step 2', { exact: true }).fill('signup_started');
      await funnel.getByRole('button', { name: 'Add a step' }).click();
      await funnel.getByLabel('Step 3', { exact: true }).fill('signup_completed');
      await funnel.getByRole('button', { name: 'Show the funnel' }).click();
      await page.getByRole('table', { name: 'Funnel' }).waitFor();
      expect(await rowsOf(page, 'Funnel')).toEqual([
        ['1', 'page_view', '3', '100%'],
        ['2', 'signup_started', '3', '100%'],
        ['3', 'signup_completed', '2', '66.7%'],
      ]);
      await look(page, 'admin-app-events');

      // Revoked, with a confirmation: the key is refused from then on.
      page.once('dialog', (dialog) => void dialog.accept());
      await card.getByRole('button', { name: `Revoke the key of ${siteName}` }).click();
      await card.getByText('revoked', { exact: true }).waitFor();
      expect(await card.getByTestId('site-snippet').count()).toBe(0);
      expect(await track(key, events.slice(0, 1))).toMatchObject({ status: 401, body: { error: 'key_invalid' } });
      await look(page, 'admin-app-events-revoked');
    } finally {
      await context.close();
    }
  });

  test('when a range has no app events or a query fails, then the dashboard says so, with the API’s message', async () => {
    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAsAdmin(page);
      await openDashboard(page);
      await page.getByLabel('Custom').check();
      await page.getByLabel('From', { exact: true }).fill('2020-01-01T00:00');
      await page.getByLabel('To', { exact: true }).fill('2020-01-02T00:00');
      await page.getByText('No app events in this range.').waitFor();
      await page.getByText('No event names in this range.').waitFor();
      await page.getByText('No page views in this range.').waitFor();
      await page.getByText('No referred visits in this range.').waitFor();
      expect(await page.getByTestId('app-events').innerText()).toBe('0');
      await page.locator('figcaption', { hasText: /^App events per hour$/ }).waitFor();

      // A step that is not an event name is refused in the page, before anything is sent.
      const funnel = page.getByRole('form', { name: 'Build a funnel' });
      await funnel.getByLabel('Step 1', { exact: true }).fill('signup');
      await funnel.getByLabel('Step 2', { exact: true }).fill('-not a name');
      await funnel.getByRole('button', { name: 'Show the funnel' }).click();
      await funnel.getByRole('alert').getByText(/Step 2: “-not a name” is not an event name/).waitFor();

      // An error answer: its message and request id are shown.
      await page.route('**/api/v1/analytics/app/funnel?*', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'store_unavailable', message: 'The analytics store is not reachable.', request_id: 'req-funnel-1' }),
        }),
      );
      await funnel.getByLabel('Step 2', { exact: true }).fill('signup_completed');
      await funnel.getByRole('button', { name: 'Show the funnel' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'The analytics store is not reachable.' });
      await alert.waitFor();
      expect(await alert.innerText()).toContain('Request id: req-funnel-1');
      await look(page, 'admin-app-events-error');
    } finally {
      await page.context().close();
    }
  });

  test('when every app-events view was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});
