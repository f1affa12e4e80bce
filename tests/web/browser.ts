/**
 * Debian's Chromium driven by playwright-core (never a browser download), with an axe-core check
 * and a screenshot of every page a test visits.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { pollFor } from '@galion/localdeps';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAllInOne, type AllInOne } from './all-in-one';

export const SCREENSHOT_DIR = resolve(__dirname, '..', '..', '.galion', 'screenshots');
const CHROMIUM = process.env.GALION_CHROMIUM ?? '/usr/bin/chromium';

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (the test machine), Chromium refuses to start with its sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });

export interface AxeViolation {
  page: string;
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/** Serious and critical accessibility problems of the page as it is now, by axe-core. */
export const seriousViolations = async (page: Page, name: string): Promise<AxeViolation[]> => {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ page: name, id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
};

export const screenshot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
};

/**
 * Reloads `page` until `check` holds, each time once its loading notes are gone: what the services
 * learn through events (a post in a feed, an avatar on a profile) shows a moment later.
 */
export const reloadUntil = (what: string, page: Page, check: () => Promise<boolean>): Promise<true> =>
  pollFor(
    what,
    async () => {
      await page.reload();
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page
        .getByRole('status')
        .filter({ hasText: /^Loading/ })
        .first()
        .waitFor({ state: 'detached' });
      return (await check()) || undefined;
    },
    { timeoutMs: 20_000, intervalMs: 500 },
  );

/**
 * One platform (as `npm start` runs it) and one browser for a test file, started before its tests
 * and stopped after; `look` checks and photographs a page, and collects its violations.
 */
export const webSuite = () => {
  const state: { platform?: AllInOne; browser?: Browser } = {};
  const violations: AxeViolation[] = [];
  beforeAll(async () => {
    [state.platform, state.browser] = await Promise.all([startAllInOne(), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await state.browser?.close();
    await state.platform?.stop();
  });
  return {
    get platform(): AllInOne {
      if (!state.platform) throw new Error('the platform did not start');
      return state.platform;
    },
    get browser(): Browser {
      if (!state.browser) throw new Error('the browser did not start');
      return state.browser;
    },
    violations,
    look: async (page: Page, name: string): Promise<void> => {
      violations.push(...(await seriousViolations(page, name)));
      await screenshot(page, name);
    },
  };
};
