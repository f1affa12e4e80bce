/**
 * Observability proven live (issue 6). The distributed platform runs on real PostgreSQL (one per
 * service), Redis and Kafka, exporting traces to a real Jaeger v2; a real Prometheus scrapes every
 * service with the alert rules the chart renders, and a real Alertmanager routes to a webhook this
 * test runs. Then: a user flow's trace crosses gateway, auth, the outbox relay, Kafka and the
 * analytics insert; a follow and a post reach a home feed through Kafka and the feed's Redis;
 * every dashboard panel has data; the metrics the rules and the contract name
 * exist, for every service of services.json; target-down, error-ratio and DLQ alerts fire (and
 * resolve) end to end.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USER_EVENTS_TOPIC } from '@galion/events';
import { SERVICE_NAMES, startPlatform, type Platform, type ServiceName } from '@galion/launcher';
import {
  freePort,
  startAlertmanager,
  startJaeger,
  startPrometheus,
  type AlertmanagerHandle,
  type JaegerHandle,
  type PrometheusHandle,
} from '@galion/localdeps';
import {
  NAMESPACE,
  ROOT,
  SPAN_KIND,
  ancestry,
  describeTrace,
  fetchTrace,
  installTools,
  metricNames,
  parseExposition,
  renderMonitoring,
  startWebhookReceiver,
  substituteVariables,
  writeRulesFile,
  type Dashboard,
  type RuleGroup,
  type TraceSpan,
  type WebhookReceiver,
} from './support';

/** A valid PNG of one pixel: the smallest image media stores. */
const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

/** Alert timings shortened through the chart's values, so the suite waits seconds, not minutes. */
const ALERT_VALUES: Record<string, string> = {
  'global.alerts.errorRatio.for': '5s',
  'global.alerts.errorRatio.window': '30s',
  'global.alerts.latencyP95.for': '10s',
  'global.alerts.latencyP95.window': '1m',
  'global.alerts.targetDown.for': '5s',
  'global.alerts.dbPool.for': '10s',
  'global.alerts.outboxBacklog.for': '10s',
  'global.alerts.consumerLag.for': '10s',
  'global.alerts.dlq.for': '0s',
  'global.alerts.dlq.window': '2m',
  'global.alerts.circuitBreaker.for': '5s',
};
const SCRAPE_SECONDS = 1;
const ADMIN = { email: 'admin@galion.local', password: 'observability-admin-password' };

interface Contract {
  metrics: { name: string; type: string; labels: string[]; services: string[] }[];
  external: { name: string; source: string; labels: string[] }[];
  targetLabels: string[];
}
const contract = JSON.parse(readFileSync(join(ROOT, 'charts/galion/metrics-contract.json'), 'utf8')) as Contract;
/** Metrics that only exist in a cluster (kube-state-metrics); a panel on them is empty on a laptop. */
const clusterOnly = new Set(contract.external.filter((m) => !/^Prometheus/.test(m.source)).map((m) => m.name));

let dataDir = '';
let webhook: WebhookReceiver | undefined;
let alertmanager: AlertmanagerHandle | undefined;
let jaeger: JaegerHandle | undefined;
let prometheus: PrometheusHandle | undefined;
let platform: Platform | undefined;
let metricsPorts: Record<ServiceName, number> | undefined;
let ruleGroups: RuleGroup[] = [];
let dashboards: Dashboard[] = [];

const running = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
  return value;
};
const prom = () => running(prometheus, 'Prometheus');
const metricsUrl = (name: ServiceName) => `http://127.0.0.1:${running(metricsPorts, 'the metrics ports')[name]}/metrics`;
const hook = () => running(webhook, 'the webhook receiver');
const plat = () => running(platform, 'the platform');

/** Polls `check` (every `intervalMs`) until it returns a value other than undefined or false. */
const until = async <T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, intervalMs = 500): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? `; last error: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

interface Reply {
  status: number;
  // Response bodies are whatever the API answers; the assertions check their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A call through the gateway, optionally from another loopback source address (its own rate-limit bucket). */
const call = (
  path: string,
  init: {
    method?: string;
    token?: string;
    body?: unknown;
    /** A body of bytes with its type (an image upload) instead of JSON. */
    raw?: { bytes: Buffer; type: string };
    headers?: Record<string, string>;
    from?: string;
  } = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const url = new URL(path, plat().services.gateway.url);
    const payload = init.raw?.bytes ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    const payloadType = init.raw?.type ?? 'application/json';
    const req = request(
      url,
      {
        method: init.method ?? (payload ? 'POST' : 'GET'),
        localAddress: init.from,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': payloadType, 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...init.headers,
        },
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 15 s`)));
    req.on('error', reject);
    req.end(payload);
  });

const firingInPrometheus = async (alertname: string, job: string): Promise<boolean> =>
  (await prom().alerts()).some((a) => a.labels.alertname === alertname && a.labels.job === job && a.state === 'firing');

jest.setTimeout(120_000);

beforeAll(() => {
  // A cold machine builds Jaeger from source (minutes); later runs find everything cached.
  installTools();
}, 1_800_000);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'galion-observability-'));
  // As root, PostgreSQL runs as the `postgres` user, which must pass through this folder.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o711);
  const rendered = renderMonitoring(ALERT_VALUES);
  ruleGroups = rendered.groups;
  dashboards = rendered.dashboards;
  const rulesFile = writeRulesFile(dataDir, ruleGroups);

  webhook = await startWebhookReceiver();
  [alertmanager, jaeger] = await Promise.all([startAlertmanager({ webhookUrl: webhook.url }), startJaeger()]);
  // Each service serves /metrics on its own port, as in the chart (METRICS_PORT, the `metrics` port the ServiceMonitor scrapes).
  const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (name) => [name, await freePort()] as const))) as Record<
    ServiceName,
    number
  >;
  metricsPorts = ports;
  platform = await startPlatform({
    dataDir: join(dataDir, 'platform'),
    admin: ADMIN,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      LOG_LEVEL: 'warn',
    },
    serviceEnv: Object.fromEntries(SERVICE_NAMES.map((name) => [name, { METRICS_PORT: String(ports[name]) }])),
    postgresPerService: true,
    output: 'ignore',
  });
  prometheus = await startPrometheus({
    // As the ServiceMonitors label them: job from the component label, namespace, pod and container.
    scrapeTargets: SERVICE_NAMES.map((name) => ({
      job: name,
      url: metricsUrl(name),
      labels: { namespace: NAMESPACE, pod: `galion-${name}-0`, container: name },
    })),
    ruleFiles: [rulesFile],
    alertmanagerUrl: alertmanager.url,
    scrapeIntervalSeconds: SCRAPE_SECONDS,
    evaluationIntervalSeconds: SCRAPE_SECONDS,
  });
  await until(
    async () => (await prom().targets()).filter((t) => t.health === 'up').length === SERVICE_NAMES.length,
    30_000,
    'Prometheus to scrape every service',
  );
}, 420_000);

afterAll(async () => {
  const stops = [platform?.stop(), prometheus?.stop(), alertmanager?.stop(), jaeger?.stop(), webhook?.close()];
  await Promise.allSettled(stops);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

// The flow's actors, filled by the first test.
const user = { email: `trace-${randomBytes(4).toString('hex')}@example.com`, password: 'a long enough passphrase', name: 'Trace Me' };
let userId = '';
let userToken = '';
let adminToken = '';
/** The trace the registration joins: the test is its client, so it knows the ids up front. */
const traceId = randomBytes(16).toString('hex');
const clientSpanId = randomBytes(8).toString('hex');

describe('a user flow through the gateway', () => {
  test('register, log in, read and update the profile, be followed, write and read posts and see them in a home feed, query analytics as admin, send app events, erase a deleted user (and trip the auth rate limit from another address)', async () => {
    const admin = await call('/api/v1/auth/login', { body: { email: ADMIN.email, password: ADMIN.password } });
    expect(admin.status).toBe(200);
    adminToken = admin.body.access_token;

    const registered = await call('/api/v1/auth/register', { body: user, headers: { traceparent: `00-${traceId}-${clientSpanId}-01` } });
    expect(registered.status).toBe(201);
    userId = registered.body.id;
    // The registration reaches analytics on its own batch, so the insert runs under its trace.
    await until(
      async () => {
        const events = await call(`/api/v1/analytics/users/${userId}/events`, { token: adminToken });
        return events.status === 200 && (events.body.events ?? []).some((e: { type: string }) => e.type === 'user.registered');
      },
      30_000,
      'the registration in analytics',
    );

    expect((await call('/api/v1/auth/login', { body: { email: user.email, password: 'not the password' } })).status).toBe(401);
    const login = await call('/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    userToken = login.body.access_token;
    const refreshed = await call('/api/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    userToken = refreshed.body.access_token;

    expect((await call('/api/v1/users/me', { token: userToken })).body).toMatchObject({ email: user.email, name: user.name });
    const patched = await call('/api/v1/users/me', { method: 'PATCH', token: userToken, body: { bio: 'Followed end to end' } });
    expect(patched.status).toBe(200);
    expect((await call('/api/v1/users/me', { token: userToken })).body.bio).toBe('Followed end to end');
    expect((await call('/api/v1/users/me')).status).toBe(401);

    // A reader follows the user before they post: the post is fanned out to the reader's home feed
    // (feed_fanout_entries_total) through Kafka and the feed's Redis.
    const reader = { email: `reader-${randomBytes(4).toString('hex')}@example.com`, password: 'a long enough passphrase', name: 'Reader' };
    expect((await call('/api/v1/auth/register', { body: reader })).status).toBe(201);
    const readerToken = (await call('/api/v1/auth/login', { body: { email: reader.email, password: reader.password } })).body.access_token;
    // Until users has made the reader's profile from the registration event.
    await until(
      async () => (await call(`/api/v1/users/${userId}/follow`, { method: 'PUT', token: readerToken })).status === 200,
      30_000,
      'the follow',
    );
    // Applied by the feed before the post, so the post is fanned out, not copied by the follow.
    await until(
      async () =>
        /^feed_events_total\{(?=[^}]*type="user\.followed")(?=[^}]*outcome="applied")[^}]*\} [1-9]/m.test(
          await (await fetch(metricsUrl('feed'))).text(),
        ),
      30_000,
      'the follow in the feed',
    );

    // Posts: a published post, read and found without a token, commented on.
    const post = await call('/api/v1/posts', {
      token: userToken,
      body: { title: 'Observed end to end', body: 'A post written through the gateway.', tags: ['observability'], published: true },
    });
    expect(post.status).toBe(201);
    expect((await call(`/api/v1/posts/${post.body.id}`)).body).toMatchObject({ id: post.body.id, author_id: userId });
    const comment = await call(`/api/v1/posts/${post.body.id}/comments`, { token: userToken, body: { body: 'Seen in Grafana.' } });
    expect(comment.status).toBe(201);
    expect((await call('/api/v1/posts/search?q=observed')).body.items.map((item: { id: string }) => item.id)).toContain(post.body.id);
    // Media: an image uploaded, read and made the avatar (media_uploads_total, media_processing_duration_seconds).
    const image = await call('/api/v1/media', { token: userToken, raw: { bytes: ONE_PIXEL_PNG, type: 'image/png' } });
    expect(image.status).toBe(201);
    expect((await call(`/api/v1/media/${image.body.id}`, { token: userToken })).body).toMatchObject({ id: image.body.id, width: 1, height: 1 });
    expect((await call('/api/v1/media/avatar', { method: 'PUT', token: userToken, body: { image_id: image.body.id } })).status).toBe(200);
    // The feed: the post in the reader's home feed, the comment in the global feed (public).
    await until(
      async () =>
        ((await call('/api/v1/feed/home', { token: readerToken })).body?.items ?? []).some(
          (item: { post_id: string }) => item.post_id === post.body.id,
        ),
      30_000,
      "the post in the reader's home feed",
    );
    await until(
      async () =>
        ((await call('/api/v1/feed/global')).body?.items ?? []).some(
          (item: { comment_id: string | null }) => item.comment_id === comment.body.id,
        ),
      30_000,
      'the comment in the global feed',
    );
    expect(await (await fetch(metricsUrl('feed'))).text()).toMatch(/^feed_fanout_entries_total [1-9]/m);

    await until(
      async () => {
        const events = await call(`/api/v1/analytics/users/${userId}/events`, { token: adminToken });
        const types = (events.body?.events ?? []).map((e: { type: string }) => e.type);
        return ['user.registered', 'user.login_failed', 'user.logged_in', 'user.updated'].every((t) => types.includes(t));
      },
      30_000,
      "the user's events in analytics",
    );
    for (const path of ['summary', 'events', 'events/by-type', 'timeseries']) {
      expect({ path, status: (await call(`/api/v1/analytics/${path}`, { token: adminToken })).status }).toEqual({ path, status: 200 });
    }
    expect((await call('/api/v1/analytics/summary', { token: userToken })).status).toBe(403);

    // The application's own events: one accepted, one refused, stored and queryable.
    const tracked = await call('/api/v1/analytics/events', {
      token: userToken,
      body: { events: [{ name: 'flow_step', properties: { step: 'profile' } }, { name: '!not a name' }] },
    });
    expect([tracked.status, tracked.body.accepted, tracked.body.refused]).toEqual([202, 1, 1]);
    await until(
      async () => {
        const names = await call('/api/v1/analytics/app/names', { token: adminToken });
        return (names.body?.names ?? []).some((n: { name: string }) => n.name === 'flow_step');
      },
      30_000,
      'the application event in analytics',
    );
    // A user who deletes their account has their events erased (analytics_user_erasures_total).
    const leaving = { email: `leaving.${Date.now()}@example.com`, password: 'a passphrase to leave with', name: 'Leaving' };
    expect((await call('/api/v1/auth/register', { body: leaving })).status).toBe(201);
    const leavingToken = (await call('/api/v1/auth/login', { body: { email: leaving.email, password: leaving.password } })).body.access_token;
    // ... and their posts removed (posts_user_erasures_total).
    const leavingPost = await call('/api/v1/posts', {
      token: leavingToken,
      body: { title: 'Soon gone', body: 'Written before leaving.', published: true },
    });
    expect(leavingPost.status).toBe(201);
    // The post in the global feed first: an entry the feed never added is not one it can remove (a
    // deletion that reaches the feed first leaves nothing to count in feed_entries_removed_total).
    await until(
      async () =>
        ((await call('/api/v1/feed/global?limit=100')).body?.items ?? []).some((item: { post_id: string }) => item.post_id === leavingPost.body.id),
      30_000,
      "the leaving user's post in the global feed",
    );
    // Until users has made the profile from the registration event (404 profile_not_found before).
    await until(async () => (await call('/api/v1/users/me', { method: 'DELETE', token: leavingToken })).status === 204, 30_000, 'the account deleted');
    await until(
      async () => /^analytics_user_erasures_total [1-9]/m.test(await (await fetch(metricsUrl('analytics'))).text()),
      30_000,
      'the erasure of the deleted user',
    );
    await until(
      async () => /^posts_user_erasures_total [1-9]/m.test(await (await fetch(metricsUrl('posts'))).text()),
      30_000,
      "the erasure of the deleted user's posts",
    );
    expect((await call(`/api/v1/posts/${leavingPost.body.id}`)).status).toBe(404);
    // ... and their entries taken out of the feeds (feed_entries_removed_total).
    await until(
      async () => /^feed_entries_removed_total [1-9]/m.test(await (await fetch(metricsUrl('feed'))).text()),
      30_000,
      "the deleted user's entries out of the feeds",
    );
    expect(((await call('/api/v1/feed/global?limit=100')).body.items as { post_id: string }[]).map((item) => item.post_id)).not.toContain(
      leavingPost.body.id,
    );
    expect((await call(`/api/v1/users?q=trace`, { token: adminToken })).status).toBe(200);

    // A client hammering the credential routes from its own address meets the gateway's per-IP
    // `auth` policy (20 a minute): 429 and gateway_rate_limited_total{policy="auth"}.
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      const guess = { email: `nobody-${i}@example.com`, password: 'a password guess' };
      statuses.push((await call('/api/v1/auth/login', { body: guess, from: '127.0.0.2' })).status);
    }
    expect(statuses).toContain(429);
    expect(await (await fetch(metricsUrl('gateway'))).text()).toMatch(/^gateway_rate_limited_total\{policy="auth"\} [1-9]/m);
  });
});

describe('traces in Jaeger', () => {
  test('the registration is one trace: gateway → auth → outbox relay publish → analytics consume → insert, each span under its parent', async () => {
    let spans: TraceSpan[] = [];
    const problems = (): string[] => {
      const out: string[] = [];
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const gateway = spans.find((s) => s.service === 'galion-gateway' && s.kind === SPAN_KIND.SERVER && s.parentSpanId === clientSpanId);
      if (!gateway) out.push('no gateway SERVER span whose parent is the client span');
      else if (gateway.name !== 'POST /api/v1/auth/*') out.push(`the gateway SERVER span is named "${gateway.name}", not by its route`);
      const under = (span: TraceSpan, ancestor: TraceSpan | undefined) =>
        ancestor !== undefined &&
        ancestry(spans, span)
          .slice(1)
          .some((a) => a.spanId === ancestor.spanId);
      const auth = spans.find((s) => s.service === 'galion-auth' && s.kind === SPAN_KIND.SERVER && under(s, gateway));
      if (!auth) out.push('no auth SERVER span under the gateway span');
      const publish = spans.find((s) => s.kind === SPAN_KIND.PRODUCER && s.name === `${USER_EVENTS_TOPIC} publish` && under(s, auth));
      if (!publish) out.push(`no "${USER_EVENTS_TOPIC} publish" PRODUCER span under the auth request`);
      const consume = spans.find(
        (s) =>
          s.service === 'galion-analytics' && s.kind === SPAN_KIND.CONSUMER && publish !== undefined && s.parentSpanId === publish.spanId,
      );
      if (!consume) out.push('no analytics CONSUMER span whose parent is the publish span');
      const insert = spans.find(
        (s) =>
          s.service === 'galion-analytics' &&
          /insert/i.test(`${s.name} ${s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? ''}`) &&
          under(s, consume),
      );
      if (!insert) out.push('no analytics database INSERT span under the consume span');
      const orphans = spans.filter((s) => s.parentSpanId && s.parentSpanId !== clientSpanId && !byId.has(s.parentSpanId));
      if (orphans.length > 0)
        out.push(`spans whose parent is not in the trace: ${orphans.map((s) => `${s.service} "${s.name}"`).join(', ')}`);
      if (spans.some((s) => s.traceId !== traceId)) out.push('spans of another trace id');
      return out;
    };
    try {
      await until(
        async () => {
          spans = await fetchTrace(running(jaeger, 'Jaeger').queryUrl, traceId);
          return problems().length === 0;
        },
        45_000,
        'the complete trace',
        1_000,
      );
    } catch {
      throw new Error(`trace ${traceId} is not complete:\n- ${problems().join('\n- ')}\nspans (${spans.length}):\n${describeTrace(spans)}`);
    }
    expect([...new Set(spans.map((s) => s.service))]).toEqual(
      expect.arrayContaining(['galion-gateway', 'galion-auth', 'galion-analytics']),
    );
  });
});

describe('alerts through Alertmanager', () => {
  test('a stopped service: GalionTargetDown fires in Prometheus, reaches the webhook, and resolves once it is back', async () => {
    const users = plat().services.users;
    const since = Date.now();
    await users.stop();
    try {
      await until(() => firingInPrometheus('GalionTargetDown', 'users'), 60_000, 'GalionTargetDown firing in Prometheus');
      const alert = await hook().waitFor(
        { alertname: 'GalionTargetDown', status: 'firing', labels: { job: 'users', namespace: NAMESPACE }, since },
        30_000,
      );
      expect(alert.labels.severity).toBe('critical');
      expect(alert.annotations.runbook_url).toMatch(/\/docs\/runbooks\/GalionTargetDown\.md$/);
    } finally {
      await users.start();
    }
    const back = Date.now();
    await hook().waitFor({ alertname: 'GalionTargetDown', status: 'resolved', labels: { job: 'users' }, since: back }, 60_000);
    expect(await firingInPrometheus('GalionTargetDown', 'users')).toBe(false);
  });

  test('PostgreSQL stopped under users: 5xx make GalionHighErrorRatio fire for users and the gateway, and resolve after PostgreSQL is back', async () => {
    const { postgres, services } = plat();
    const since = Date.now();
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    await postgres.users.stop();
    try {
      const fired = new Set<string>();
      try {
        await until(
          async () => {
            // About 6 calls a second: under the per-user rate limit (600 a minute), so the gateway forwards them.
            count((await call('/api/v1/users/me', { method: 'PATCH', token: userToken, body: { bio: 'during the outage' } })).status);
            for (const job of ['users', 'gateway']) {
              const found = hook().notifications.some(
                (n) =>
                  n.receivedAt >= since &&
                  n.alerts.some((a) => a.status === 'firing' && a.labels.alertname === 'GalionHighErrorRatio' && a.labels.job === job),
              );
              if (found) fired.add(job);
            }
            return fired.size === 2;
          },
          90_000,
          'GalionHighErrorRatio firing for users and the gateway at the webhook',
          150,
        );
      } catch (error) {
        const ratio = await prom().query(
          'sum by (job) (rate(http_server_request_duration_seconds_count{status_code=~"5.."}[30s])) / sum by (job) (rate(http_server_request_duration_seconds_count[30s]))',
        );
        const alerts = (await prom().alerts()).map((a) => `${a.labels.alertname}/${a.labels.job}: ${a.state}`);
        const up = (await prom().query('up{job="users"}'))[0]?.value[1];
        const metrics = await fetch(metricsUrl('users')).then(
          (r) => r.status,
          (e: Error) => e.message,
        );
        throw new Error(
          [
            (error as Error).message,
            `responses through the gateway: ${JSON.stringify(Object.fromEntries(statuses))}`,
            `fired at the webhook: ${[...fired].join(', ') || 'none'}`,
            `5xx ratio by job: ${JSON.stringify(ratio.map((r) => [r.metric.job, r.value[1]]))}`,
            `Prometheus alerts: ${alerts.join('; ')}`,
            `up{job="users"} = ${up}, users /metrics answers ${metrics} (running: ${services.users.running})`,
          ].join('\n'),
        );
      }
      expect([...statuses.keys()].some((status) => status >= 500)).toBe(true);
    } finally {
      await postgres.users.start();
    }
    const back = Date.now();
    await until(async () => (await fetch(`${services.users.url}/readyz`)).status === 200, 60_000, 'users to be ready again');
    // Healthy traffic while the failures leave the alert's window.
    const resolved = (job: string) =>
      hook().notifications.some(
        (n) =>
          n.receivedAt >= back &&
          n.alerts.some((a) => a.status === 'resolved' && a.labels.alertname === 'GalionHighErrorRatio' && a.labels.job === job),
      );
    await until(
      async () => {
        await call('/api/v1/users/me', { token: userToken });
        return resolved('users') && resolved('gateway');
      },
      120_000,
      'GalionHighErrorRatio resolved for users and the gateway',
      1_000,
    );
    expect((await call('/api/v1/users/me', { method: 'PATCH', token: userToken, body: { bio: 'Back again' } })).status).toBe(200);
  }, 300_000);

  test('poison messages on user-events: analytics dead-letters them and GalionDLQReceiving fires at the webhook', async () => {
    const since = Date.now();
    const before = Number((await prom().query(`sum(analytics_dlq_total{job="analytics"})`))[0]?.value[1] ?? 0);
    // kafkajs is a dependency of the workspace packages, not of the repository root.
    const { Kafka, logLevel } = createRequire(join(ROOT, 'packages/localdeps/package.json'))('kafkajs') as typeof import('kafkajs');
    const producer = new Kafka({ clientId: 'observability-test', brokers: plat().kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic: USER_EVENTS_TOPIC,
        messages: [
          { key: 'poison-1', value: 'this is not JSON' },
          { key: 'poison-2', value: JSON.stringify({ id: 'not-a-uuid', type: 'user.exploded', data: {} }) },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    await until(
      async () => Number((await prom().query(`sum(analytics_dlq_total{job="analytics"})`))[0]?.value[1] ?? 0) >= before + 2,
      60_000,
      'analytics_dlq_total to count both messages',
    );
    await until(() => firingInPrometheus('GalionDLQReceiving', 'analytics'), 60_000, 'GalionDLQReceiving firing in Prometheus');
    const alert = await hook().waitFor({ alertname: 'GalionDLQReceiving', status: 'firing', labels: { job: 'analytics' }, since }, 30_000);
    expect(alert.annotations.runbook_url).toMatch(/\/docs\/runbooks\/GalionDLQReceiving\.md$/);
  });
});

describe('metrics', () => {
  const scrape = async (name: ServiceName) => parseExposition(await (await fetch(metricsUrl(name))).text());

  test('every metric of metrics-contract.json is in the live scrape of each service it names, with its type and only its labels', async () => {
    const problems: string[] = [];
    const empty: string[] = [];
    for (const name of SERVICE_NAMES) {
      const families = await scrape(name);
      for (const metric of contract.metrics.filter((m) => m.services.includes(name))) {
        const family = families.get(metric.name);
        if (!family) {
          problems.push(`${name}: ${metric.name} is missing`);
          continue;
        }
        if (family.type !== metric.type) problems.push(`${name}: ${metric.name} is a ${family.type}, the contract says ${metric.type}`);
        const extra = [...family.labels].filter((label) => !metric.labels.includes(label));
        if (extra.length > 0) problems.push(`${name}: ${metric.name} has labels ${extra.join(', ')} the contract does not list`);
        if (family.samples === 0) empty.push(`${name}: ${metric.name}`);
      }
    }
    expect(problems).toEqual([]);
    // Labelled counters appear once counted; after the flow every one has samples.
    expect(empty).toEqual([]);
  });

  test('every metric an alert rule names exists in Prometheus for the job the rule watches (cluster-only metrics excepted)', async () => {
    const problems: string[] = [];
    for (const group of ruleGroups) {
      const job = /^galion-(.+)\.rules$/.exec(group.name)?.[1] ?? '';
      for (const rule of group.rules) {
        for (const metric of metricNames(rule.expr)) {
          if (clusterOnly.has(metric)) continue;
          const found = await prom().query(`count({__name__="${metric}",job="${job}",namespace="${NAMESPACE}"})`);
          if (found.length === 0) problems.push(`${rule.alert} (${job}): ${metric}`);
        }
      }
    }
    expect(ruleGroups.map((g) => g.name).sort()).toEqual(SERVICE_NAMES.map((n) => `galion-${n}.rules`).sort());
    expect(problems).toEqual([]);
    // Only kube-state-metrics' restart counter is cluster-only.
    expect([...clusterOnly]).toEqual(['kube_pod_container_status_restarts_total']);
  });
});

describe('Grafana dashboards', () => {
  // A last round of ordinary traffic to every service, so the 5-minute panels do not depend on
  // how the scenarios above went (a restarted service starts its counters from zero).
  beforeAll(async () => {
    const login = await call('/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    const token = login.body?.access_token ?? userToken;
    // Until each answers 200 through the gateway: a breaker opened by an earlier scenario may still be cooling down.
    await until(async () => (await call('/api/v1/users/me', { token })).status === 200, 60_000, 'users through the gateway', 1_000);
    await until(
      async () => (await call('/api/v1/analytics/summary', { token: adminToken })).status === 200,
      60_000,
      'analytics through the gateway',
      1_000,
    );
    await until(async () => (await call('/api/v1/posts?limit=5')).status === 200, 60_000, 'posts through the gateway', 1_000);
    await until(async () => (await call('/api/v1/feed/global?limit=5')).status === 200, 60_000, 'the feed through the gateway', 1_000);
    await until(async () => (await call('/api/v1/media/stats', { token })).status === 200, 60_000, 'media through the gateway', 1_000);
    for (let i = 0; i < 3; i++) {
      await call('/api/v1/media?limit=5', { token });
      await call('/api/v1/users/me', { token });
      await call('/api/v1/analytics/summary', { token: adminToken });
      await call('/api/v1/posts?limit=5');
      await call('/api/v1/posts/search?q=observed');
      // Home reads feed the merged-timelines histogram; the login above gave the feed's consumer a batch.
      await call('/api/v1/feed/home', { token });
      await call('/api/v1/feed/global?limit=5');
      // Rounds a scrape and a half apart: a series first seen in this traffic (media's, when no
      // scenario above reached it) then changes between two scrapes, and its 5-minute rate is
      // not 0 (which made the ratio and quantile panels NaN).
      await new Promise((resolve) => setTimeout(resolve, 1.5 * SCRAPE_SECONDS * 1000));
    }
  }, 150_000);

  test('the chart ships the overview, event pipeline and one dashboard per service, and the namespace variable finds the namespace', async () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(
      [...SERVICE_NAMES, 'event-pipeline', 'overview'].map((name) => `galion-${name}`).sort(),
    );
    const namespaces = await prom().query('count by (namespace) (http_server_request_duration_seconds_count)');
    expect(namespaces.map((s) => s.metric.namespace)).toEqual([NAMESPACE]);
  });

  test('every query of every panel returns data after the traffic', async () => {
    const skipped: string[] = [];
    const queries: { where: string; expr: string }[] = [];
    for (const dashboard of dashboards) {
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        for (const target of panel.targets ?? []) {
          const where = `${dashboard.title} / ${panel.title} [${target.refId}]`;
          if (metricNames(target.expr).every((m) => clusterOnly.has(m))) skipped.push(where);
          else queries.push({ where, expr: substituteVariables(target.expr, NAMESPACE) });
        }
      }
    }
    // The last traffic's samples reach Prometheus a scrape or two later: each query is asked
    // again, a scrape apart, until it has data or 15 scrapes have passed.
    let empty = new Map<string, string>();
    const deadline = Date.now() + 15 * SCRAPE_SECONDS * 1000;
    for (let pending = queries; pending.length > 0 && Date.now() < deadline; ) {
      empty = new Map();
      for (const { where, expr } of pending) {
        const result = await prom().query(expr);
        const values = result.map((sample) => Number(sample.value[1])).filter((value) => Number.isFinite(value));
        if (values.length === 0) empty.set(where, `${where}: ${result.length === 0 ? 'no series' : 'only NaN'} — ${expr}`);
      }
      pending = pending.filter(({ where }) => empty.has(where));
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, SCRAPE_SECONDS * 1000));
    }
    expect(queries.length).toBeGreaterThan(60);
    expect([...empty.values()]).toEqual([]);
    // Only the container-restart panels (kube-state-metrics) cannot have data off-cluster.
    expect(skipped.every((where) => /Container restarts/.test(where))).toBe(true);
  });
});
