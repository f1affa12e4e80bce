/**
 * Images and the avatar in a real browser (Debian's Chromium) against the platform as `npm start`
 * runs it (images on disk, read through signed URLs): a PNG chosen and a JPEG dropped, the grid with
 * their sizes and its "More", the checks before sending and the server's refusal of a text file
 * named .png, the usage against the quota, an image made the avatar and seen (loaded) on the profile
 * and by another user, the avatar removed, a new one uploaded from the profile, and its image deleted.
 * Every page is checked with axe-core and photographed (.galion/screenshots).
 */
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { newAccount, register, type Account } from './accounts';
import { reloadUntil, webSuite } from './browser';

jest.setTimeout(300_000);

const suite = webSuite();
const { look, violations } = suite;

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

/** A picture of `width` × `height` pixels drawn by the browser's canvas (no image library in the tests), base64. */
const drawn = (page: Page, type: 'image/png' | 'image/jpeg', width: number, height: number): Promise<string> =>
  page.evaluate(
    ({ type, width, height }) => {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#1d4ed8';
      context.fillRect(0, 0, width, height);
      context.fillStyle = '#f59e0b';
      context.fillRect(width / 4, height / 4, width / 2, height / 2);
      return canvas.toDataURL(type, 0.9).split(',')[1]!;
    },
    { type, width, height },
  );

/** Whether an <img> has loaded its picture (a refused URL, or one the CSP blocks, has none). */
const loaded = (image: Locator): Promise<boolean> =>
  image.evaluate((img: HTMLImageElement) =>
    img.decode().then(
      () => img.naturalWidth > 0,
      () => false,
    ),
  );

/** The card of the image whose caption says `caption` ("PNG, 300 × 200"). */
const card = (page: Page, caption: string) => page.locator('.image-card', { hasText: caption });

/** "3 images of 1,000" of the usage. */
const usage = async (page: Page): Promise<string> => page.locator('.usage-meter').first().locator('span').innerText();

const withContexts = async (count: number, run: (...contexts: BrowserContext[]) => Promise<void>): Promise<void> => {
  const contexts = await Promise.all(Array.from({ length: count }, () => suite.browser.newContext()));
  try {
    await run(...contexts);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
};

/** Uploads through the API with a token of the account's own: the pages of the grid, faster than one by one in the page. */
const uploadThroughApi = async (account: Account, base64: string, count: number): Promise<void> => {
  const login = await fetch(`${suite.platform.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: account.email, password: account.password }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  for (let i = 0; i < count; i += 1) {
    const answer = await fetch(`${suite.platform.url}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
      body: Buffer.from(base64, 'base64'),
    });
    expect(answer.status).toBe(201);
  }
};

describe('images and the avatar in the web app', () => {
  test('when a user uploads, pages, sets an avatar, removes it and deletes an image, then the grid, the usage and the profiles follow', async () => {
    await withContexts(2, async (adaContext, bobContext) => {
      const page = await adaContext.newPage();
      const ada = newAccount('Ada');
      await register(page, suite.platform.url, ada);
      // Public, so that Bob sees her name and avatar.
      await page.getByLabel('Let other signed-in users see my name, bio and avatar').check();
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved.').waitFor();
      await page.getByText('No avatar yet: people see your initials.').waitFor();
      const adaId = /\/users\/([0-9a-f-]{36})$/.exec(
        (await page.getByRole('link', { name: 'My page as others see it' }).getAttribute('href'))!,
      )![1]!;

      // No image yet.
      await nav(page).getByRole('link', { name: 'My images' }).click();
      await page.getByRole('heading', { name: 'My images', level: 1 }).waitFor();
      await page.getByText('You have no images yet. Upload one above.').waitFor();
      expect(await usage(page)).toBe('0 images of 1,000');
      await look(page, 'images-empty');

      // A PNG chosen with the file input.
      const png = await drawn(page, 'image/png', 300, 200);
      await page
        .getByLabel('Upload an image')
        .setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
      await page.getByRole('status').getByText('blue.png is uploaded: 300 × 200 pixels.').waitFor();
      await card(page, 'PNG, 300 × 200').waitFor();

      // A JPEG dropped on the drop zone.
      const jpeg = await drawn(page, 'image/jpeg', 640, 480);
      const transfer = await page.evaluateHandle((base64) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'orange.jpg', { type: 'image/jpeg' }));
        return data;
      }, jpeg);
      await page.locator('.drop-zone').first().dispatchEvent('drop', { dataTransfer: transfer });
      await page.getByRole('status').getByText('orange.jpg is uploaded: 640 × 480 pixels.').waitFor();
      await card(page, 'JPEG, 640 × 480').waitFor();
      // Newest first; each thumbnail loads from its signed URL, under the page's CSP.
      await expect(page.locator('.image-card figcaption').allInnerTexts()).resolves.toEqual([
        expect.stringMatching(/^JPEG, 640 × 480, [\d.]+ kB$/),
        expect.stringMatching(/^PNG, 300 × 200, [\d.]+ kB$/),
      ]);
      for (const image of await page.locator('.image-card img').all()) expect(await loaded(image)).toBe(true);
      await page.getByText('2 images of 1,000').waitFor();
      await look(page, 'images');

      // What the page refuses before sending, and what the server refuses: a text file named .png.
      const picker = page.getByLabel('Upload an image');
      await picker.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just words\n') });
      await page.getByRole('alert').getByText('notes.txt is not a JPEG, PNG, WebP, GIF or AVIF image.').waitFor();
      await picker.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(11 * 1024 * 1024) });
      await page.getByRole('alert').getByText('huge.png is 11 MB: Galion takes images of up to 10 MB.').waitFor();
      await picker.setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just words, named as a picture\n') });
      const refusal = page.getByRole('alert').filter({ hasText: 'The file is not a JPEG, PNG, WebP, GIF or AVIF image' });
      await refusal.waitFor();
      await refusal.getByText(/^Request id: [0-9a-f-]{36}$/).waitFor();
      await look(page, 'images-refused');
      expect(await page.locator('.image-card').count()).toBe(2);

      // Past a page of 20: "More" brings the rest.
      await uploadThroughApi(ada, png, 19);
      await reloadUntil('the first page of images', page, async () => (await page.locator('.image-card').count()) === 20);
      expect(await usage(page)).toBe('21 images of 1,000');
      await page.getByRole('button', { name: 'More images' }).click();
      // While the page loads, the button reads "Loading…": its going says nothing yet. The 21st
      // card coming does; then no button is left, the list being whole.
      await page.locator('.image-card').nth(20).waitFor();
      expect(await page.locator('.image-card').count()).toBe(21);
      expect(await page.locator('p.more button').count()).toBe(0);

      // The JPEG becomes the avatar, with the keyboard.
      const jpegCard = card(page, 'JPEG, 640 × 480');
      await jpegCard.getByRole('button', { name: 'Use as my avatar' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('status').getByText('This image is your avatar now').waitFor();
      await jpegCard.getByText('your avatar').waitFor();
      // The same button, its label changed: the focus stays on it.
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Stop using as my avatar');
      await look(page, 'images-avatar');

      // The profile shows it once the users service has heard of it, and the picture loads.
      await nav(page).getByRole('link', { name: 'My profile' }).click();
      await page.getByRole('heading', { name: 'My profile' }).waitFor();
      const avatar = page.getByRole('img', { name: 'My avatar' });
      await reloadUntil('the avatar on the profile', page, async () => (await avatar.count()) === 1);
      expect(await avatar.getAttribute('src')).toMatch(/^\/api\/v1\/media\/avatars\/[0-9a-f-]{36}$/);
      expect(await loaded(avatar)).toBe(true);
      await look(page, 'profile-avatar');
      const avatarUrl = `${suite.platform.url}${await avatar.getAttribute('src')}`;

      // Another user sees it on her page and, small, in whom he follows.
      const bobPage = await bobContext.newPage();
      await register(bobPage, suite.platform.url, newAccount('Bob'));
      await bobPage.goto(`${suite.platform.url}/users/${adaId}`);
      await bobPage.getByRole('heading', { name: ada.name, level: 1 }).waitFor();
      expect(await loaded(bobPage.locator('.person img.avatar'))).toBe(true);
      await bobPage.getByRole('button', { name: 'Follow', exact: true }).click();
      await bobPage.getByRole('button', { name: 'Unfollow' }).waitFor();
      await bobPage.getByRole('link', { name: '1 follower' }).click();
      await bobPage.getByRole('heading', { name: `Followers of ${ada.name}` }).waitFor();
      // Bob has no avatar: his initials (of "Bob 17…").
      await expect(bobPage.locator('.people .avatar.initials').innerText()).resolves.toMatch(/^B\d$/);
      await bobPage.goto(`${suite.platform.url}/profile`);
      await bobPage.getByRole('link', { name: 'follows 1 person' }).click();
      const small = bobPage.locator('.people img.avatar');
      await small.waitFor();
      expect(await small.getAttribute('src')).toMatch(/\?size=small$/);
      expect(await loaded(small)).toBe(true);
      await look(bobPage, 'following-avatar');

      // Removed: gone from the profile at once, and its public URL finds nothing.
      await page.getByRole('button', { name: 'Remove avatar' }).click();
      await page.getByRole('status').getByText('Your avatar is removed.').waitFor();
      await page.getByText('No avatar yet: people see your initials.').waitFor();
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('My avatar');
      expect((await fetch(avatarUrl)).status).toBe(404);
      await page.reload();
      await page.getByText('No avatar yet: people see your initials.').waitFor();

      // A new one uploaded from the profile.
      const square = await drawn(page, 'image/jpeg', 400, 400);
      await page
        .getByLabel('Upload a new avatar')
        .setInputFiles({ name: 'square.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(square, 'base64') });
      await page.getByRole('status').getByText('Your new avatar is set.').waitFor();
      expect(await loaded(avatar)).toBe(true);
      await reloadUntil('the new avatar on the profile', page, async () => (await avatar.count()) === 1);

      // Its image deleted from the images: the usage goes down and the avatar goes with it.
      await nav(page).getByRole('link', { name: 'My images' }).click();
      const squareCard = card(page, 'JPEG, 400 × 400');
      await squareCard.getByText('your avatar').waitFor();
      await page.getByText('22 images of 1,000').waitFor();
      const storedBefore = await page.locator('.usage-meter').nth(1).locator('span').innerText();
      await squareCard.getByRole('button', { name: 'Delete' }).click();
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Cancel');
      await look(page, 'images-delete');
      await squareCard.getByRole('button', { name: 'Yes, delete it' }).click();
      await page.getByRole('status').getByText('The image is deleted.').waitFor();
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('My images');
      await page.getByText('21 images of 1,000').waitFor();
      expect(await page.locator('.usage-meter').nth(1).locator('span').innerText()).not.toBe(storedBefore);
      expect(await card(page, 'JPEG, 400 × 400').count()).toBe(0);
      await nav(page).getByRole('link', { name: 'My profile' }).click();
      await page.getByRole('heading', { name: 'My profile' }).waitFor();
      await reloadUntil('the avatar gone from the profile', page, async () => (await avatar.count()) === 0);
      await page.getByText('No avatar yet: people see your initials.').waitFor();
    });
  });

  test('when every page was checked, then none has a serious or critical accessibility violation', () => {
    expect(violations).toEqual([]);
  });
});
