/**
 * @galion/track in a real browser (Debian's Chromium) against the platform as `npm start` runs it:
 * a site of its own (a small HTTP server on another port, so another origin) loads the gateway's
 * /track.js with the site's key, navigates as a single-page app, sends a custom event and one while
 * the page is being left (sendBeacon); the admin queries then count each exactly once. A page of an
 * origin the site does not allow is refused, a batch whose answer was lost is stored once, a
 * browser that says Do-Not-Track sends nothing, and the web app records its own page views for
 * the signed-in user only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollFor } from '@galion/localdeps';
import type { BrowserContext, Request } from 'playwright-core';
import { webSuite } from './browser';

jest.setTimeout(180_000);

const suite = webSuite();

interface StaticSite {
  origin: string;
  close(): Promise<void>;
}

/**
 * A site's page: the tracking script from the gateway, with the site's key, and buttons that do what
 * single-page apps do. Its own script (page.js) runs after the tracker (both are deferred, in order).
 */
const sitePage = (gateway: string, key: string, options: { leaveTo?: string; dnt?: boolean }) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A site that counts its visits</title>
<link rel="icon" href="data:,">
<script defer src="${gateway}/track.js" data-key="${key}"${options.dnt ? ' data-dnt="true"' : ''}></script>
<script defer src="/page.js"></script>
</head>
<body>
<main>
<h1>Shop</h1>
<button type="button" id="pricing">Pricing</button>
<button type="button" id="same">Same page again</button>
<a href="#faq" id="faq">Questions</a>
<button type="button" id="signup">Sign up</button>
<button type="button" id="later">Later</button>
${options.leaveTo ? `<a href="${options.leaveTo}" id="leave">Somewhere else</a>` : ''}
</main>
</body>
</html>
`;

/** The page's own code: single-page navigations, a custom event, and one more while the page is left. */
const PAGE_SCRIPT = `
document.getElementById('pricing').addEventListener('click', () => history.pushState({}, '', '/pricing'));
document.getElementById('same').addEventListener('click', () => history.replaceState({}, '', location.pathname));
document.getElementById('signup').addEventListener('click', () => galion.track('signup_clicked', { plan: 'pro' }));
document.getElementById('later').addEventListener('click', () => galion.track('later_clicked', { at: location.pathname }));
addEventListener('pagehide', () => galion.track('page_left', { from: location.pathname }));
`;

/** An HTTP server on 127.0.0.1 serving `html` at every page path (as a single-page app's server does), page.js, and a plain page at /plain. */
const startSite = async (html: (origin: string) => string): Promise<StaticSite> => {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(PAGE_SCRIPT);
    } else if (path === '/plain') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><html lang="en"><title>Elsewhere</title><p>No tracker here.</p></html>');
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html(origin));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

let adminToken = '';
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  const response = await fetch(`${suite.platform.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(suite.platform.admin),
  });
  expect(response.status).toBe(200);
  adminToken = ((await response.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await Promise.all(opened.map((item) => item.close()));
});

const asAdmin = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${suite.platform.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as T };
};

interface NameRow {
  name: string;
  events: number;
  users: number;
  visitors: number;
}
interface PageRow {
  path: string;
  views: number;
  visitors: number;
}
interface ValueRow {
  value: string | number | boolean | null;
  events: number;
  visitors: number;
}

const namesOf = async (site?: string): Promise<NameRow[]> => {
  const { status, body } = await asAdmin<{ names: NameRow[] }>(
    'GET',
    `/api/v1/analytics/app/names?limit=100${site ? `&site=${site}` : ''}`,
  );
  expect(status).toBe(200);
  return body.names;
};
const pagesOf = async (site?: string): Promise<PageRow[]> => {
  const { status, body } = await asAdmin<{ pages: PageRow[] }>(
    'GET',
    `/api/v1/analytics/app/pages?limit=100${site ? `&site=${site}` : ''}`,
  );
  expect(status).toBe(200);
  return body.pages;
};
const byName = (rows: NameRow[]) => [...rows].sort((a, b) => a.name.localeCompare(b.name));
const byPath = (rows: PageRow[]) => [...rows].sort((a, b) => a.path.localeCompare(b.path));

/** Polls until every wanted name has at least its count of events (bounded), then returns what is stored. */
const namesReaching = (site: string | undefined, wanted: Record<string, number>): Promise<NameRow[]> =>
  pollFor(
    `the app events ${JSON.stringify(wanted)}`,
    async () => {
      const names = await namesOf(site);
      const reached = Object.entries(wanted).every(([name, events]) => (names.find((row) => row.name === name)?.events ?? 0) >= events);
      return reached ? names : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );

const createSite = async (origin: string): Promise<{ id: string; key: string }> => {
  const { status, body } = await asAdmin<{ id: string; key: string }>('POST', '/api/v1/analytics/sites', {
    name: `Track test ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    allowed_origins: [origin],
    events_per_minute: 6000,
  });
  expect(status).toBe(201);
  expect(body.key).toMatch(/^pk_[A-Za-z0-9]{24}$/);
  return body;
};

/** The requests a context sends to the tracking API, as they went out. */
const trackingRequests = (context: BrowserContext): Request[] => {
  const seen: Request[] = [];
  context.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/v1/analytics/events') seen.push(request);
  });
  return seen;
};
const eventNamesIn = (request: Request): string[] =>
  ((JSON.parse(request.postData() ?? '{}') as { events?: { name: string }[] }).events ?? []).map((event) => event.name);

/**
 * An init script that records each navigator.sendBeacon call (its URL, the names of the events in
 * it, and whether the browser queued it) in the page origin's localStorage, read back by beaconsOf.
 */
const RECORD_BEACONS = `(() => {
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => {
    const queued = send(url, data);
    const names = JSON.parse(String(data)).events.map((event) => event.name);
    const log = JSON.parse(localStorage.getItem('beacons') || '[]');
    localStorage.setItem('beacons', JSON.stringify([...log, { url: String(url), names, queued }]));
    return queued;
  };
})();`;

const beaconsOf = async (context: BrowserContext, origin: string): Promise<{ url: string; names: string[]; queued: boolean }[]> => {
  const page = await context.newPage();
  await page.goto(`${origin}/plain`);
  return page.evaluate(() => JSON.parse(localStorage.getItem('beacons') ?? '[]') as { url: string; names: string[]; queued: boolean }[]);
};

const withContext = async (run: (context: BrowserContext) => Promise<void>, init?: string): Promise<void> => {
  const context = await suite.browser.newContext();
  if (init) await context.addInitScript(init);
  try {
    await run(context);
  } finally {
    await context.close();
  }
};

describe('the tracking script on a site of its own', () => {
  test('when a visitor navigates a single-page site, clicks and leaves, then each page view and event is stored once, the last one sent by beacon', async () => {
    const elsewhere = await startSite(() => '');
    opened.push(elsewhere);
    let key = '';
    const site = await startSite(() => sitePage(suite.platform.url, key, { leaveTo: `${elsewhere.origin}/plain` }));
    opened.push(site);
    const created = await createSite(site.origin);
    key = created.key;

    await withContext(async (context) => {
      const requests = trackingRequests(context);
      const page = await context.newPage();
      await page.goto(`${site.origin}/`);
      await page.waitForFunction(() => 'galion' in window);

      await page.click('#pricing'); // pushState: a page view of /pricing
      await page.click('#same'); // replaceState to the same address: none
      await page.click('#faq'); // a #fragment only: none
      await page.goBack(); // popstate to /pricing without the fragment: the same page, none
      await page.goBack(); // popstate to /: a page view
      expect(new URL(page.url()).pathname).toBe('/');
      await page.evaluate(() => (window as unknown as { galion: { flush(): Promise<void> } }).galion.flush());
      await page.click('#signup');
      await page.click('#leave'); // pagehide: page_left, sent while the page unloads
      await page.waitForURL(`${elsewhere.origin}/plain`);

      const names = await namesReaching(created.id, { page_view: 3, signup_clicked: 1, page_left: 1 });
      expect(byName(names)).toEqual([
        { name: 'page_left', events: 1, users: 0, visitors: 1 },
        { name: 'page_view', events: 3, users: 0, visitors: 1 },
        { name: 'signup_clicked', events: 1, users: 0, visitors: 1 },
      ]);
      expect(byPath(await pagesOf(created.id))).toEqual([
        { path: '/', views: 2, visitors: 1 },
        { path: '/pricing', views: 1, visitors: 1 },
      ]);
      const breakdown = await asAdmin<{ values: ValueRow[] }>(
        'GET',
        `/api/v1/analytics/app/breakdown?name=signup_clicked&property=plan&site=${created.id}`,
      );
      expect(breakdown.status).toBe(200);
      expect(breakdown.body.values).toEqual([{ value: 'pro', events: 1, visitors: 1 }]);

      // What went out while the page lived (the browser reports no request of a page being left):
      // the three page views, as plain-text POSTs with the key (CORS "simple" requests: no preflight).
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) {
        expect(request.method()).toBe('POST');
        expect(new URL(request.url()).searchParams.get('key')).toBe(key);
        expect(request.headers()['content-type']).toBe('text/plain;charset=UTF-8');
      }
      expect(requests.flatMap(eventNamesIn)).toEqual(['page_view', 'page_view', 'page_view']);
      // And while it was left, page_left by sendBeacon (recorded by the init script in the site's storage).
      const beacons = await beaconsOf(context, site.origin);
      expect(beacons.filter((beacon) => beacon.names.includes('page_left'))).toEqual([
        { url: `${suite.platform.url}/api/v1/analytics/events?key=${key}`, names: ['page_left'], queued: true },
      ]);
    }, RECORD_BEACONS);
  });

  test('when a page of an origin the site does not allow sends events, then they are refused with 403 origin_not_allowed and none is stored', async () => {
    let key = '';
    const allowed = await startSite(() => sitePage(suite.platform.url, key, {}));
    const other = await startSite(() => sitePage(suite.platform.url, key, {}));
    opened.push(allowed, other);
    const created = await createSite(allowed.origin);
    key = created.key;

    await withContext(async (context) => {
      // The answers as the server sent them (the page reads them too: refusals carry CORS headers).
      const answers: { origin: string | undefined; status: number; error?: string }[] = [];
      await context.route('**/api/v1/analytics/events?*', async (route) => {
        const response = await route.fetch();
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        answers.push({
          origin: route.request().headers()['origin'],
          status: response.status(),
          ...(body.error ? { error: body.error } : {}),
        });
        await route.fulfill({ response });
      });
      const page = await context.newPage();
      await page.goto(`${other.origin}/elsewhere`);
      await page.waitForFunction(() => 'galion' in window);
      await page.click('#signup'); // sent with the page view, a second later
      const refused = await pollFor('the refusal', () => answers[0], { timeoutMs: 10_000 });
      expect(refused).toEqual({ origin: other.origin, status: 403, error: 'origin_not_allowed' });
      // The tracker read the 403 and dropped the batch: no retry follows (the first would come after 1 s).
      await page.waitForTimeout(2_500);
      expect(answers.filter((answer) => answer.origin === other.origin)).toHaveLength(1);
      await page.close();

      // The same site's allowed origin, after: its event is stored, and the refused ones are not.
      const allowedPage = await context.newPage();
      await allowedPage.goto(`${allowed.origin}/`);
      await allowedPage.waitForFunction(() => 'galion' in window);
      await allowedPage.click('#later');
      // Stored after the refused ones were answered: had those been taken, they would be counted by now.
      const names = await namesReaching(created.id, { page_view: 1, later_clicked: 1 });
      expect(byName(names)).toEqual([
        { name: 'later_clicked', events: 1, users: 0, visitors: 1 },
        { name: 'page_view', events: 1, users: 0, visitors: 1 },
      ]);
      expect(await pagesOf(created.id)).toEqual([{ path: '/', views: 1, visitors: 1 }]);
    });
  });

  test('when the answer to a batch is lost, then the batch is sent again unchanged, after the Retry-After asked, and stored once', async () => {
    let key = '';
    const site = await startSite(() => sitePage(suite.platform.url, key, {}));
    opened.push(site);
    const created = await createSite(site.origin);
    key = created.key;

    await withContext(async (context) => {
      const tries: { body: string; at: number; status: number }[] = [];
      // The first request reaches the server (which stores it), but its answer is replaced by a 503
      // asking to wait 2 s: the tracker tries again, with the same ids and times.
      await context.route('**/api/v1/analytics/events?*', async (route) => {
        const at = Date.now();
        const response = await route.fetch();
        tries.push({ body: route.request().postData() ?? '', at, status: response.status() });
        if (tries.length > 1) return route.fulfill({ response });
        return route.fulfill({
          status: 503,
          headers: {
            'access-control-allow-origin': site.origin,
            'access-control-expose-headers': 'Retry-After',
            'content-type': 'application/json',
            'retry-after': '2',
          },
          body: JSON.stringify({ error: 'event_bus_unavailable', message: 'Try again.', request_id: 'lost-answer' }),
        });
      });
      const page = await context.newPage();
      await page.goto(`${site.origin}/`); // its page view is the batch
      await pollFor('the second try', () => (tries.length >= 2 ? true : undefined), { timeoutMs: 10_000 });

      expect(tries.map((attempt) => attempt.status)).toEqual([202, 202]);
      expect(tries[1]!.body).toBe(tries[0]!.body);
      expect(JSON.parse(tries[0]!.body)).toEqual({
        events: [expect.objectContaining({ name: 'page_view', id: expect.any(String), time: expect.any(String) })],
      });
      // Retry-After said 2 s (the doubling wait would have been 1 s).
      expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1900);
      await namesReaching(created.id, { page_view: 1 });
      // Whatever was still on its way has arrived by now: the first copy and the second are one event.
      await page.waitForTimeout(1000);
      expect(byName(await namesOf(created.id))).toEqual([{ name: 'page_view', events: 1, users: 0, visitors: 1 }]);
    });
  });

  test('when the site respects Do-Not-Track and the browser says DNT, then nothing is sent', async () => {
    let key = '';
    const site = await startSite(() => sitePage(suite.platform.url, key, { dnt: true }));
    opened.push(site);
    key = (await createSite(site.origin)).key;

    await withContext(async (context) => {
      const requests = trackingRequests(context);
      const page = await context.newPage();
      await page.goto(`${site.origin}/`);
      await page.waitForFunction(() => 'galion' in window);
      expect(await page.evaluate(() => navigator.doNotTrack)).toBe('1');
      await page.click('#pricing');
      await page.click('#signup');
      await page.evaluate(() => (window as unknown as { galion: { flush(): Promise<void> } }).galion.flush());
      // Past the flush interval (1 s): nothing went out.
      await page.waitForTimeout(1500);
      expect(requests).toHaveLength(0);
    }, `Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });`);
  });
});

describe('the web app’s own page views', () => {
  test('when a user signs in and moves between pages, then those page views are stored as the user’s; while signed out, nothing is sent', async () => {
    const account = { email: `tracked-${Date.now().toString(36)}@example.com`, password: 'correct horse battery staple', name: 'Tracked' };
    const registered = await fetch(`${suite.platform.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    expect(registered.status).toBe(201);

    const pageViewsBefore = (await namesOf()).find((row) => row.name === 'page_view') ?? { events: 0, users: 0 };
    const viewsOf = (pages: PageRow[], path: string) => pages.find((row) => row.path === path)?.views ?? 0;
    const pagesBefore = await pagesOf();

    await withContext(async (context) => {
      const requests = trackingRequests(context);
      const page = await context.newPage();
      await page.goto(`${suite.platform.url}/register`); // signed out: not sent
      await page.goto(`${suite.platform.url}/login`); // signed out: not sent
      await page.getByLabel('Email', { exact: true }).fill(account.email);
      await page.getByLabel('Password', { exact: true }).fill(account.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'My profile' }).waitFor(); // /profile
      await page.getByRole('link', { name: 'Change my password' }).click(); // /password
      await page.getByRole('heading', { name: 'Change my password' }).waitFor();
      await page.goBack(); // /profile again
      await page.getByRole('heading', { name: 'My profile' }).waitFor();
      await page.reload(); // a restored session: its first page counts too
      await page.getByRole('heading', { name: 'My profile' }).waitFor();

      // The platform's page views so far are the sites' of the tests above (no user): these four are the user's.
      const names = await namesReaching(undefined, { page_view: pageViewsBefore.events + 4 });
      expect(names.find((row) => row.name === 'page_view')).toMatchObject({
        events: pageViewsBefore.events + 4,
        users: pageViewsBefore.users + 1,
      });
      const pages = await pagesOf();
      expect({
        profile: viewsOf(pages, '/profile'),
        password: viewsOf(pages, '/password'),
        login: viewsOf(pages, '/login'),
        register: viewsOf(pages, '/register'),
      }).toEqual({
        profile: viewsOf(pagesBefore, '/profile') + 3,
        password: viewsOf(pagesBefore, '/password') + 1,
        login: viewsOf(pagesBefore, '/login'),
        register: viewsOf(pagesBefore, '/register'),
      });
      // Sent with the user's token, as JSON, to the app's own origin.
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) {
        expect(new URL(request.url()).origin).toBe(suite.platform.url);
        expect(request.headers()['authorization']).toMatch(/^Bearer /);
        expect(request.headers()['content-type']).toBe('application/json');
      }

      // Logged out: the pages seen after it are not sent.
      const before = requests.length;
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.goto(`${suite.platform.url}/register`);
      await page.waitForTimeout(1500);
      expect(requests.length).toBe(before);
    });
  });
});
