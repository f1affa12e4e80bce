/**
 * The web app in a real browser (Debian's Chromium) against the platform as `npm start` runs it,
 * with its Mailpit as the SMTP server: sign-up and the mailed links, the profile, deletion, and the
 * session's cookie. Every page is checked with axe-core and photographed (.galion/screenshots).
 */
import { mailpitClient, pollFor, type ReceivedMail } from '@galion/localdeps';
import type { BrowserContext, Page } from 'playwright-core';
import { newAccount, register as registerThrough, type Account } from './accounts';
import { webSuite } from './browser';

jest.setTimeout(180_000);

const suite = webSuite();
const { look, violations } = suite;

const mailTo = (email: string, purpose: string): Promise<ReceivedMail> =>
  pollFor(
    `the ${purpose} mail to ${email}`,
    async () => (await mailpitClient(suite.platform.mailUrl).messages()).find((m) => m.to.includes(email) && m.headers['X-Galion-Purpose']?.includes(purpose)),
    { timeoutMs: 20_000, intervalMs: 250 },
  );
/** The link in a mail. */
const linkIn = (message: ReceivedMail): string => /https?:\/\/\S+/.exec(message.text)![0];

const register = (page: Page, account: Account): Promise<void> => registerThrough(page, suite.platform.url, account);

const logIn = async (page: Page, email: string, password: string): Promise<void> => {
  await page.goto(`${suite.platform.url}/login`);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
};

const withContext = async (run: (context: BrowserContext) => Promise<void>): Promise<void> => {
  const context = await suite.browser.newContext();
  try {
    await run(context);
  } finally {
    await context.close();
  }
};

describe('the web app', () => {
  test('when a new user signs up, then the verification mail arrives and its link shows the address verified on the profile', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      const account = newAccount();
      await page.goto(`${suite.platform.url}/register`);
      await look(page, 'register');

      await register(page, account);
      await look(page, 'profile-unverified');
      await page.goto(linkIn(await mailTo(account.email, 'email_verification')).replace(/^https?:\/\/[^/]+/, suite.platform.url));
      await page.getByText('Your address is confirmed.').waitFor();
      await look(page, 'verify-email');
      await page.getByRole('link', { name: 'Continue' }).click();

      await page.getByText('verified', { exact: true }).waitFor();
      expect(await page.getByText('not verified').count()).toBe(0);
    });
  });

  test('when a user forgets the password, then the reset mail sets a new one: the old one fails and the new one works', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      const account = newAccount();
      await register(page, account);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();

      await page.goto(`${suite.platform.url}/forgot-password`);
      await look(page, 'forgot-password');
      await page.getByLabel('Email', { exact: true }).fill(account.email);
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByText('a link to set a new password is on its way').waitFor();
      await page.goto(linkIn(await mailTo(account.email, 'password_reset')).replace(/^https?:\/\/[^/]+/, suite.platform.url));
      await look(page, 'reset-password');
      await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Set the password' }).click();
      await page.getByText('Your password is changed').waitFor();

      await logIn(page, account.email, account.password);
      await page.getByRole('alert').getByText('The email or password is not correct.').waitFor();
      await look(page, 'login-error');
      await logIn(page, account.email, 'a brand new passphrase');
      await page.getByRole('heading', { name: 'My profile' }).waitFor();
    });
  });

  test('when a user edits the profile and reloads, then the change stays; when the account is deleted, then the user is logged out and cannot log in', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      const account = newAccount();
      await register(page, account);
      await page.getByLabel('Bio', { exact: true }).fill('Counts things for a living.');
      await page.getByLabel('Time zone').fill('Europe/London');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();

      await page.reload();
      await page.getByLabel('Bio', { exact: true }).waitFor();
      expect(await page.getByLabel('Bio', { exact: true }).inputValue()).toBe('Counts things for a living.');
      expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/London');
      await look(page, 'profile');

      await page.getByRole('link', { name: 'Delete my account' }).click();
      await look(page, 'delete-account');
      await page.getByLabel(`Type ${account.email} to confirm`).fill(account.email);
      await page.getByRole('button', { name: 'Delete my account for good' }).click();
      await page.getByText('Your account is deleted.').waitFor();
      await logIn(page, account.email, account.password);
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('heading', { name: 'My profile' }).count()).toBe(0);
    });
  });

  test('when the user logs out, then the refresh cookie is gone and replaying it is refused; two tabs refreshing at once both stay logged in', async () => {
    await withContext(async (context) => {
      const first = await context.newPage();
      const account = newAccount();
      await register(first, account);
      const second = await context.newPage();
      await second.goto(`${suite.platform.url}/profile`);
      await second.getByRole('heading', { name: 'My profile' }).waitFor();

      // Both tabs reload at once: each restores its session from the same cookie.
      await Promise.all([first.reload(), second.reload()]);
      for (const tab of [first, second]) await tab.getByRole('heading', { name: 'My profile' }).waitFor();

      const cookie = (await context.cookies(`${suite.platform.url}/api/v1/auth/refresh`)).find((c) => c.name === 'galion_refresh');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth/refresh' });
      await first.getByRole('button', { name: 'Log out' }).click();
      await first.getByText('You are logged out.').waitFor();
      await look(first, 'login');

      expect((await context.cookies(`${suite.platform.url}/api/v1/auth/refresh`)).filter((c) => c.name === 'galion_refresh')).toEqual([]);
      const replay = await fetch(`${suite.platform.url}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-protection': '1', cookie: `galion_refresh=${cookie!.value}` },
        body: '{}',
      });
      expect(replay.status).toBe(401);
    });
  });

  test('when a user changes the password, then every session ends and only the new password logs in', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      const account = newAccount();
      await register(page, account);
      await page.getByRole('link', { name: 'Change my password' }).click();
      await look(page, 'change-password');
      await page.getByLabel('Current password', { exact: true }).fill('not my password');
      await page.getByLabel('New password', { exact: true }).fill('an entirely new passphrase');
      await page.getByRole('button', { name: 'Change the password' }).click();
      await page.getByRole('alert').getByText('The current password is not correct.').waitFor();

      await page.getByLabel('Current password', { exact: true }).fill(account.password);
      await page.getByRole('button', { name: 'Change the password' }).click();
      await page.getByText('Your password is changed and every session is ended.').waitFor();
      await logIn(page, account.email, account.password);
      await page.getByRole('alert').getByText('The email or password is not correct.').waitFor();
      await logIn(page, account.email, 'an entirely new passphrase');
      await page.getByRole('heading', { name: 'My profile' }).waitFor();
    });
  });

  test('when an unknown page is opened, then the app says so', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      await page.goto(`${suite.platform.url}/no/such/page`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await look(page, 'not-found');
    });
  });

  test('when every page was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});
