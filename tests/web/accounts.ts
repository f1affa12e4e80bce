/** New accounts for the browser tests, made through the app's own sign-up page. */
import type { Page } from 'playwright-core';

/** An account nobody has yet: a name starting with `first`, an email of its own. */
export const newAccount = (first = 'Ada') => {
  const tag = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
  return { name: `${first} ${tag}`, email: `${first.toLowerCase()}-${tag}@example.com`, password: 'correct horse battery staple' };
};
export type Account = ReturnType<typeof newAccount>;

/** Signs `account` up on the app at `url`; the page ends on the new user's profile, signed in. */
export const register = async (page: Page, url: string, account: Account): Promise<void> => {
  await page.goto(`${url}/register`);
  await page.getByLabel('Name', { exact: true }).fill(account.name);
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByRole('button', { name: 'Create the account' }).click();
  await page.getByRole('heading', { name: 'My profile' }).waitFor();
};
