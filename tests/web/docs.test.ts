/**
 * The API docs page (/docs, Swagger UI served by the gateway) in a real browser (Debian's Chromium)
 * against the platform as `npm start` runs it: it renders under its Content-Security-Policy with no
 * violation, and a request sent from it with a pasted token reaches the platform and shows the answer.
 */
import type { Page } from 'playwright-core';
import { webSuite } from './browser';

jest.setTimeout(180_000);

const suite = webSuite();
const { look, violations } = suite;

/**
 * A fresh context and page recording what the page reports as going wrong: script errors, console
 * errors (Chromium logs a refused script, style or request there) and every CSP violation event.
 */
const openPage = async (): Promise<{ page: Page; problems(): Promise<string[]>; close(): Promise<void> }> => {
  const context = await suite.browser.newContext();
  const page = await context.newPage();
  const logged: string[] = [];
  await page.addInitScript(() => {
    const seen: string[] = [];
    Object.assign(window, { cspViolations: seen });
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(
        `CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`,
      ),
    );
  });
  page.on('console', (message) => {
    if (message.type() === 'error') logged.push(message.text());
  });
  page.on('pageerror', (error) => logged.push(`page error: ${error.message}`));
  return {
    page,
    problems: async () => [...logged, ...(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations))],
    close: () => context.close(),
  };
};

/** The operation GET /api/v1/users/me of the page. */
const usersMe = (page: Page) => page.locator('.opblock-get', { has: page.locator('[data-path="/api/v1/users/me"]') });

const newUserToken = async (): Promise<{ email: string; token: string }> => {
  const tag = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
  const account = { name: `Docs ${tag}`, email: `docs-${tag}@example.com`, password: 'correct horse battery staple' };
  const post = (path: string, body: unknown) =>
    fetch(`${suite.platform.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const registered = await post('/api/v1/auth/register', account);
  expect(registered.status).toBe(201);
  const login = await post('/api/v1/auth/login', { email: account.email, password: account.password });
  expect(login.status).toBe(200);
  return { email: account.email, token: ((await login.json()) as { access_token: string }).access_token };
};

describe('the API docs page', () => {
  test('when /docs opens, then Swagger UI renders every service of the merged document with no CSP violation or error', async () => {
    const { page, problems, close } = await openPage();
    try {
      const response = await page.goto(`${suite.platform.url}/docs`);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self';");
      await usersMe(page).waitFor();
      for (const path of ['/api/v1/auth/login', '/api/v1/analytics/summary']) await page.locator(`[data-path="${path}"]`).first().waitFor();
      await page.getByRole('heading', { name: /^Galion API/ }).waitFor();
      expect(await page.locator('#unavailable').isHidden()).toBe(true);
      await look(page, 'docs');
      expect(await problems()).toEqual([]);
    } finally {
      await close();
    }
  });

  test('when a user pastes a token and executes GET /users/me, then the platform answers 200 with their profile and the page shows it', async () => {
    const { email, token } = await newUserToken();
    const { page, problems, close } = await openPage();
    try {
      await page.goto(`${suite.platform.url}/docs`);
      await page.getByRole('button', { name: 'Authorize', exact: true }).click();
      const dialog = page.locator('.modal-ux');
      await dialog.locator('#auth-bearer-value').fill(token);
      await dialog.getByRole('button', { name: 'Apply credentials' }).click();
      await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();

      const operation = usersMe(page);
      await operation.locator('.opblock-summary').first().click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      const [answer] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/users/me' && r.request().method() === 'GET'),
        operation.getByRole('button', { name: 'Execute' }).click(),
      ]);
      expect(answer.status()).toBe(200);
      expect(new URL(answer.url()).origin).toBe(suite.platform.url);
      expect((await answer.request().allHeaders()).authorization).toBe(`Bearer ${token}`);
      expect(((await answer.json()) as { email: string }).email).toBe(email);
      const requestId = (await answer.allHeaders())['x-request-id'];
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

      const live = operation.locator('.live-responses-table .response');
      await expect(live.locator('.response-col_status').first().innerText()).resolves.toBe('200');
      await expect(live.locator('.response-col_description').first().innerText()).resolves.toContain(`"email": "${email}"`);
      await expect(live.locator('.response-col_description').first().innerText()).resolves.toContain(`x-request-id: ${requestId}`);
      await look(page, 'docs-try-it');
      expect(await problems()).toEqual([]);
    } finally {
      await close();
    }
  });

  test('when a service is missing from the merged document, then the page says which one', async () => {
    const { page, close } = await openPage();
    try {
      await page.route('**/api/v1/openapi.json', async (route) => {
        const document = (await (await route.fetch()).json()) as Record<string, unknown>;
        await route.fulfill({
          json: { ...document, 'x-galion-services': { auth: 'included', users: 'included', analytics: 'unavailable' } },
        });
      });
      await page.goto(`${suite.platform.url}/docs`);
      await usersMe(page).waitFor();
      await expect(page.locator('#unavailable').innerText()).resolves.toBe(
        'Not available right now: analytics. Their routes are missing below.',
      );
    } finally {
      await close();
    }
  });

  test('when every docs page was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});
