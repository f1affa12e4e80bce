/**
 * The admin console in a real browser (Debian's Chromium) against the platform as `npm start` runs
 * it: the overview against the API's own numbers, the range picker, the users table (search,
 * sort, pages, the last-admin refusal), one user's timeline, and a non-admin refused.
 */
import { pollFor } from '@galion/localdeps';
import type { Page } from 'playwright-core';
import { reloadUntil, webSuite } from './browser';

jest.setTimeout(180_000);

const suite = webSuite();
const { look, violations } = suite;

const call = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${suite.platform.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as T };
};
const tokenOf = async (email: string, password: string): Promise<string> =>
  (await call<{ access_token: string }>('POST', '/api/v1/auth/login', { email, password })).body.access_token;

const logInAs = async (page: Page, email: string, password: string): Promise<void> => {
  await page.goto(`${suite.platform.url}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'My profile' }).waitFor();
};

const password = 'correct horse battery staple';

describe('the admin console', () => {
  test('when an admin opens the overview, then it shows the numbers the API returns; a range with no events shows none, per hour', async () => {
    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAs(page, suite.platform.admin.email, suite.platform.admin.password);
      const token = await tokenOf(suite.platform.admin.email, suite.platform.admin.password);
      const summaryNow = async () => {
        const to = new Date(Date.now() + 60_000).toISOString();
        const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
        return (await call<{ total: number; distinct_users: number }>('GET', `/api/v1/analytics/summary?from=${from}&to=${to}`, undefined, token)).body;
      };
      // The logins' events reach analytics through the in-process bus: wait until some are counted.
      await pollFor('the logins to be counted', async () => ((await summaryNow()).total > 0 ? true : undefined));

      await page.getByRole('link', { name: 'Admin console' }).click();
      await page.getByTestId('total').waitFor();
      await look(page, 'admin-overview');

      // An event still on its way may land between the page's read and the API's: read both again until they agree.
      await reloadUntil('the overview to show the numbers the API returns', page, async () => {
        const shown = { total: await page.getByTestId('total').innerText(), users: await page.getByTestId('distinct-users').innerText() };
        const summary = await summaryNow();
        return shown.total === String(summary.total) && shown.users === String(summary.distinct_users);
      });
      await page.locator('figcaption', { hasText: /^Events per day$/ }).waitFor();

      await page.getByLabel('Custom').check();
      await page.getByLabel('From', { exact: true }).fill('2020-01-01T00:00');
      await page.getByLabel('To', { exact: true }).fill('2020-01-02T00:00');
      await page.getByText('No events in this range.').waitFor();
      expect(await page.getByTestId('total').innerText()).toBe('0');
      await page.locator('figcaption', { hasText: /^Events per hour$/ }).waitFor();
      expect(await page.locator('figcaption', { hasText: /^Events per day$/ }).count()).toBe(0);
    } finally {
      await page.context().close();
    }
  });

  test('when an admin searches, sorts and pages the users, then the table follows; demoting the last admin shows the refusal', async () => {
    const tag = `Zed${Date.now().toString(36)}`;
    const names = Array.from({ length: 12 }, (_, i) => `${tag} ${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) {
      expect((await call('POST', '/api/v1/auth/register', { email: `${tag.toLowerCase()}-${i}@example.com`, password, name })).status).toBe(201);
    }
    const token = await tokenOf(suite.platform.admin.email, suite.platform.admin.password);
    await pollFor('the 12 profiles', async () => {
      const found = await call<{ items: unknown[]; next_cursor: string | null }>('GET', `/api/v1/users?q=${tag}&limit=100`, undefined, token);
      return found.body.items.length === 12 ? true : undefined;
    });

    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAs(page, suite.platform.admin.email, suite.platform.admin.password);
      await page.goto(`${suite.platform.url}/admin/users`);
      await page.getByLabel('Search', { exact: true }).fill(tag);
      await page.getByLabel('Sort by').selectOption('name');
      await page.getByLabel('Order').selectOption('asc');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: `${tag} 00` }).waitFor();
      await look(page, 'admin-users');

      const firstPage = await page.locator('table.grid tbody tr td:first-child').allInnerTexts();
      expect(firstPage).toEqual(names.slice(0, 10));
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('link', { name: `${tag} 10` }).waitFor();
      expect(await page.locator('table.grid tbody tr td:first-child').allInnerTexts()).toEqual(names.slice(10));
      await page.getByRole('button', { name: 'Previous' }).click();
      await page.getByRole('link', { name: `${tag} 00` }).waitFor();

      // The only admin is the one logged in.
      await page.getByLabel('Search', { exact: true }).fill(suite.platform.admin.email);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('button', { name: `Demote ${suite.platform.admin.email}` }).click();
      await page.getByRole('alert').getByText('This is the last active admin; make another admin first.').waitFor();
      await look(page, 'admin-last-admin');
    } finally {
      await page.context().close();
    }
  });

  test('when an admin opens a user, then the page shows the profile and the user’s events', async () => {
    const email = `timeline-${Date.now()}@example.com`;
    const registered = await call<{ id: string }>('POST', '/api/v1/auth/register', { email, password, name: 'Tim Line' });
    await tokenOf(email, password);
    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAs(page, suite.platform.admin.email, suite.platform.admin.password);
      await pollFor('the user’s events in the timeline', async () => {
        await page.goto(`${suite.platform.url}/admin/users/${registered.body.id}`);
        await page.getByRole('heading', { name: 'Tim Line' }).waitFor();
        await page.getByRole('heading', { name: 'Timeline' }).waitFor();
        return (await page.getByRole('cell', { name: 'user.logged_in' }).count()) > 0 ? true : undefined;
      }, { timeoutMs: 20_000, intervalMs: 500 });
      expect(await page.getByRole('cell', { name: 'user.registered' }).count()).toBe(1);
      await look(page, 'admin-user');
    } finally {
      await page.context().close();
    }
  });

  test('when an admin filters the events by type and pages through them, then every row has that type and the pages do not repeat', async () => {
    const tag = `ev${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) {
      const email = `${tag}-${i}@example.com`;
      await call('POST', '/api/v1/auth/register', { email, password, name: `Eve ${i}` });
      for (let j = 0; j < 10; j++) await tokenOf(email, password);
    }
    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAs(page, suite.platform.admin.email, suite.platform.admin.password);
      await page.goto(`${suite.platform.url}/admin/events`);
      await page.getByLabel('Type', { exact: true }).fill('user.logged_in');
      await page.getByRole('button', { name: 'Filter' }).click();
      await pollFor('a full first page of logins', async () => ((await page.locator('table.grid tbody tr').count()) === 25 ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 250,
      });
      await look(page, 'admin-events');
      const ids = () => page.locator('table.grid tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id') ?? ''));
      const firstPage = await ids();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByText('Page 2').waitFor();
      await pollFor('the second page', async () => ((await ids()).join() !== firstPage.join() ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 250,
      });
      const secondPage = await ids();

      const types = await page.locator('table.grid tbody tr td:nth-child(2)').allInnerTexts();
      expect(new Set(types)).toEqual(new Set(['user.logged_in']));
      expect(secondPage.length).toBeGreaterThan(0);
      expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  test('when a user who is not an admin opens the console, then the page says it is not allowed', async () => {
    const email = `plain-${Date.now()}@example.com`;
    await call('POST', '/api/v1/auth/register', { email, password, name: 'Plain User' });
    const page = await (await suite.browser.newContext()).newPage();
    try {
      await logInAs(page, email, password);
      await page.goto(`${suite.platform.url}/admin/users`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      expect(await page.getByRole('link', { name: 'Admin console' }).count()).toBe(0);
      await look(page, 'admin-not-allowed');
    } finally {
      await page.context().close();
    }
  });

  test('when every console page was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});
