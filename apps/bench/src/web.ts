/**
 * The web app's figures: the size of the first load and of the admin console (gzip), the time from
 * navigation to the admin dashboard showing its numbers over a store of a million events, and
 * Lighthouse's performance and accessibility scores, in Debian's Chromium.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createDatabase } from '@galion/kit';
import { startPlatform } from '@galion/launcher';
import { freePort } from '@galion/localdeps';
import { chromium } from 'playwright-core';
import { fmt, percentile, row } from './load.js';
import { synthetic } from './synthetic.js';

const resolvePackage = createRequire(__filename).resolve;
const WEB_DIST = path.join(path.dirname(resolvePackage('@galion/web/package.json')), 'dist');
const CHROMIUM = process.env.GALION_CHROMIUM ?? '/usr/bin/chromium';
const FIRST_LOAD_BUDGET_KB = 200;

const gzipKb = (file: string): number => gzipSync(readFileSync(file), { level: 9 }).length / 1024;

/** What index.html makes the browser fetch at once (scripts, preloads, styles), and the lazy console script. */
export const bundleSizes = (dist: string): { firstLoadKb: number; consoleKb: number; files: string[] } => {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const referenced = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const consoleFile = readdirSync(path.join(dist, 'assets')).find((name) => /^admin-.*\.js$/.test(name));
  return {
    firstLoadKb: gzipKb(path.join(dist, 'index.html')) + referenced.reduce((sum, file) => sum + gzipKb(path.join(dist, file)), 0),
    consoleKb: consoleFile ? gzipKb(path.join(dist, 'assets', consoleFile)) : 0,
    files: referenced,
  };
};

// Lighthouse is an ES module only; this package compiles to CommonJS, whose import() becomes require().
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ default: LighthouseRun }>;
type LighthouseRun = (
  url: string,
  flags: { port: number; output: 'json'; logLevel: 'error'; onlyCategories: string[] },
) => Promise<{ lhr: { categories: Record<string, { score: number | null }> } } | undefined>;

export const benchWeb = async ({ seconds }: { seconds: number; concurrency: number }): Promise<void> => {
  const log = (line: string) => process.stderr.write(`[bench:web] ${line}\n`);
  const out: string[] = [];
  const sizes = bundleSizes(WEB_DIST);
  out.push(
    'Web app (gzip, level 9)',
    row(['', 'KB', 'budget'], [28, 10, 10]),
    row(['first load (HTML, JS, CSS)', fmt(sizes.firstLoadKb, 1), `${FIRST_LOAD_BUDGET_KB}`], [28, 10, 10]),
    row(['admin console (lazy chunk)', fmt(sizes.consoleKb, 1), ''], [28, 10, 10]),
  );

  const events = Number(process.env.BENCH_WEB_EVENTS ?? 1_000_000);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-web-'));
  chmodSync(dataDir, 0o711);
  const admin = { email: 'admin@bench.galion.test', password: 'bench-admin-password-1' };
  log('starting the distributed platform');
  const platform = await startPlatform({ dataDir, admin, output: 'ignore', env: { LOG_LEVEL: 'warn', RATE_LIMIT_AUTH_PER_IP: '100000' } });
  const debugPort = await freePort();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [`--remote-debugging-port=${debugPort}`, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
  try {
    // The generator fills an empty store: analytics stops, its tables are emptied (the admin's
    // first events go), the history is written, and the user index goes on after it.
    log(`generating ${fmt(events)} events over 30 days into the analytics store`);
    const analyticsUrl = platform.databaseUrl('analytics');
    await platform.service('analytics').stop();
    const store = createDatabase({ url: analyticsUrl, poolMax: 1 });
    await store.raw('TRUNCATE events, event_counts_hourly, user_ids, active_users_hourly, active_users_daily');
    const started = Date.now();
    await synthetic([
      'generate',
      '--database-url',
      analyticsUrl,
      '--events',
      String(events),
      '--days',
      '30',
      '--users',
      '50000',
      // Up to today's midnight (UTC): the generator fills hour and day buckets of its own, and the
      // platform's own events of today (the admin's) are in today's.
      '--end',
      new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString(),
    ]);
    log(`generated in ${fmt((Date.now() - started) / 1000, 1)} s`);
    await store.raw("SELECT setval(pg_get_serial_sequence('user_ids', 'idx'), (SELECT max(idx) FROM user_ids))");
    await store.destroy();
    await platform.service('analytics').start();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${platform.gatewayUrl}/login`);
    await page.getByLabel('Email', { exact: true }).fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'My profile' }).waitFor();
    // From navigation to the totals on screen: a full page load each time (session from the cookie,
    // the console's chunk from the cache after the first), 7-day and 30-day ranges.
    const timings: Record<string, number[]> = { '7 days': [], '30 days': [] };
    const runs = Math.max(5, Math.min(20, seconds));
    let shown = '';
    for (let i = 0; i < runs; i++) {
      for (const range of Object.keys(timings)) {
        const t0 = performance.now();
        await page.goto(`${platform.gatewayUrl}/admin`);
        if (range === '30 days') await page.getByLabel('Last 30 days').check();
        await page.getByTestId('total').waitFor();
        // The 30-day answer replaces the 7-day one: wait until the number on screen changes.
        if (range === '30 days') await page.getByTestId('total').filter({ hasNotText: new RegExp(`^${shown}$`) }).waitFor();
        shown = (await page.getByTestId('total').innerText()) ?? '';
        timings[range]!.push(performance.now() - t0);
      }
    }
    out.push(
      '',
      `Navigation to the admin dashboard showing its totals (${fmt(events)} events in the store; the 30-day range shows ${shown})`,
      row(['range', 'runs', 'p50 ms', 'max ms'], [12, 6, 10, 10]),
      ...Object.entries(timings).map(([range, ms]) => {
        const sorted = [...ms].sort((a, b) => a - b);
        return row([range, String(ms.length), fmt(percentile(sorted, 50)), fmt(sorted.at(-1) ?? 0)], [12, 6, 10, 10]);
      }),
    );
    await context.close();

    const lighthouse = (await importEsm('lighthouse')).default;
    out.push('', 'Lighthouse 12 (mobile defaults, simulated throttling)', row(['page', 'performance', 'accessibility'], [16, 14, 14]));
    for (const pagePath of ['/login', '/register']) {
      const result = await lighthouse(`${platform.gatewayUrl}${pagePath}`, {
        port: debugPort,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility'],
      });
      const score = (name: string) => String(Math.round((result?.lhr.categories[name]?.score ?? 0) * 100));
      out.push(row([pagePath, score('performance'), score('accessibility')], [16, 14, 14]));
    }
  } finally {
    await browser.close();
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n\n`);
};
