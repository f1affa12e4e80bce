#!/usr/bin/env node
// Writes the Grafana dashboards (JSON) the charts ship: one per service in charts/<service>/dashboards/,
// the platform overview and the event pipeline in charts/galion/dashboards/. Every query selects
// services by the `job` label and the `namespace` variable. `--check` exits 1 when a committed
// dashboard differs from what this script writes (the chart tests run it).
import { join, relative } from 'node:path';
import { ROOT, services } from '../services.mjs';
import { writeOrCheck } from './generated-files.mjs';

const CHARTS = join(ROOT, 'charts');
const DS = { type: 'prometheus', uid: '${datasource}' };
const sel = (job, extra = '') => `job="${job}",namespace=~"$namespace"${extra ? `,${extra}` : ''}`;

/**
 * `part` where it has series, else 0 for every series of `whole` (same labels): a 5xx counter
 * appears only after the first 5xx, and a healthy service must show 0, not "No data".
 * With `ratio`, divided by `whole`.
 */
const zeroWhenNone = (part, whole, ratio = false) => {
  const zeroed = `(${part} or ${whole} * 0)`;
  return ratio ? `${zeroed} / ${whole}` : zeroed;
};

/**
 * `part` where it has series, else one 0 from `present` (a series there from the start): a labelled
 * counter has no series until its first increment, and a healthy service must show 0, not "No data".
 */
const orZero = (part, present) => `${part} or on () ${present} * 0`;

let nextId = 1;
const panel = (title, targets, { unit = 'short', w = 12, h = 8, type = 'timeseries', description } = {}) => ({
  id: nextId++,
  type,
  title,
  ...(description && { description }),
  datasource: DS,
  fieldConfig: { defaults: { unit }, overrides: [] },
  gridPos: { w, h, x: 0, y: 0 },
  targets: targets.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), datasource: DS, expr, legendFormat })),
});
const row = (title) => ({ id: nextId++, type: 'row', title, collapsed: false, gridPos: { w: 24, h: 1, x: 0, y: 0 }, panels: [] });

/** Lays panels out left to right, top to bottom. */
const layout = (panels) => {
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const p of panels) {
    if (p.type === 'row' || x + p.gridPos.w > 24) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    p.gridPos.x = x;
    p.gridPos.y = y;
    x += p.gridPos.w;
    rowH = Math.max(rowH, p.gridPos.h);
    if (p.type === 'row') {
      y += 1;
      x = 0;
      rowH = 0;
    }
  }
  return panels;
};

const dashboard = (uid, title, panels, tags = []) => ({
  uid,
  title,
  tags: ['galion', ...tags],
  timezone: 'browser',
  schemaVersion: 39,
  version: 1,
  editable: true,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source', current: {} },
      {
        name: 'namespace',
        type: 'query',
        label: 'Namespace',
        datasource: DS,
        query: { query: 'label_values(http_server_request_duration_seconds_count, namespace)', refId: 'namespace' },
        definition: 'label_values(http_server_request_duration_seconds_count, namespace)',
        refresh: 2,
        includeAll: true,
        multi: true,
        current: {},
      },
    ],
  },
  annotations: { list: [] },
  panels: layout(panels),
});

const red = (job) => [
  row('Requests (RED)'),
  panel('Request rate by route', [[`sum by (route) (rate(http_server_request_duration_seconds_count{${sel(job)}}[5m]))`, '{{route}}']], {
    unit: 'reqps',
    w: 8,
  }),
  panel(
    'Error ratio (5xx)',
    [
      [
        zeroWhenNone(
          `sum(rate(http_server_request_duration_seconds_count{${sel(job, 'status_code=~"5.."')}}[5m]))`,
          `sum(rate(http_server_request_duration_seconds_count{${sel(job)}}[5m]))`,
          true,
        ),
        '5xx ratio',
      ],
    ],
    { unit: 'percentunit', w: 8 },
  ),
  panel(
    'Latency p50 / p95 / p99',
    [0.5, 0.95, 0.99].map((q) => [
      `histogram_quantile(${q}, sum by (le) (rate(http_server_request_duration_seconds_bucket{${sel(job, 'route!~"/(livez|readyz|metrics)"')}}[5m])))`,
      `p${Math.round(q * 100)}`,
    ]),
    { unit: 's', w: 8 },
  ),
  panel(
    'Responses by status',
    [[`sum by (status_code) (rate(http_server_request_duration_seconds_count{${sel(job)}}[5m]))`, '{{status_code}}']],
    { unit: 'reqps' },
  ),
  panel(
    'p95 latency by route',
    [[`histogram_quantile(0.95, sum by (le, route) (rate(http_server_request_duration_seconds_bucket{${sel(job)}}[5m])))`, '{{route}}']],
    { unit: 's' },
  ),
];

const runtime = (job) => [
  row('Process'),
  panel('Targets up', [[`sum(up{${sel(job)}})`, 'up']], { w: 6, type: 'stat' }),
  panel('CPU', [[`sum by (pod) (rate(process_cpu_seconds_total{${sel(job)}}[5m]))`, '{{pod}}']], { unit: 'short', w: 6 }),
  panel('Resident memory', [[`sum by (pod) (process_resident_memory_bytes{${sel(job)}})`, '{{pod}}']], { unit: 'bytes', w: 6 }),
  panel('Event loop lag p99', [[`max by (pod) (nodejs_eventloop_lag_p99_seconds{${sel(job)}})`, '{{pod}}']], { unit: 's', w: 6 }),
  panel('Heap used', [[`sum by (pod) (nodejs_heap_size_used_bytes{${sel(job)}})`, '{{pod}}']], { unit: 'bytes', w: 12 }),
  panel(
    'Container restarts (15m)',
    [[`sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace=~"$namespace",container="${job}"}[15m]))`, '{{pod}}']],
    { w: 12 },
  ),
];

const dbPool = (job) => [
  row('Database pool'),
  panel('Connections used / max', [
    [`sum by (pod) (db_pool_connections_used{${sel(job)}})`, 'used {{pod}}'],
    [`sum by (pod) (db_pool_connections_max{${sel(job)}})`, 'max {{pod}}'],
  ]),
  panel('Queries waiting for a connection', [[`sum by (pod) (db_pool_pending_acquires{${sel(job)}})`, '{{pod}}']]),
];

const outbox = (job) => [
  row('Transactional outbox'),
  panel('Pending events', [[`sum(outbox_pending_events{${sel(job)}})`, 'pending']], { w: 8 }),
  panel('Oldest pending event age', [[`max(outbox_oldest_pending_age_seconds{${sel(job)}})`, 'age']], { unit: 's', w: 8 }),
  panel(
    'Published / errors',
    [
      [`sum(rate(outbox_published_total{${sel(job)}}[5m]))`, 'published'],
      [`sum(rate(outbox_publish_errors_total{${sel(job)}}[5m]))`, 'errors'],
    ],
    { unit: 'ops', w: 8 },
  ),
];

/** The panels of a service's own metrics, between its RED panels and the shared ones below them. */
const ownPanels = {
  gateway: () => [
    row('Upstreams'),
    panel(
      'Upstream p95 latency',
      [
        [
          `histogram_quantile(0.95, sum by (le, upstream) (rate(gateway_upstream_request_duration_seconds_bucket{${sel('gateway')}}[5m])))`,
          '{{upstream}}',
        ],
      ],
      { unit: 's', w: 8 },
    ),
    panel(
      'Upstream responses by status',
      [
        [
          `sum by (upstream, status_code) (rate(gateway_upstream_request_duration_seconds_count{${sel('gateway')}}[5m]))`,
          '{{upstream}} {{status_code}}',
        ],
      ],
      { unit: 'reqps', w: 8 },
    ),
    panel(
      'Circuit breaker state (0 closed, 1 half-open, 2 open)',
      [[`max by (upstream) (gateway_circuit_breaker_state{${sel('gateway')}})`, '{{upstream}}']],
      { w: 8 },
    ),
    panel(
      'Circuit breaker rejections',
      [[`sum by (upstream) (rate(gateway_circuit_breaker_rejections_total{${sel('gateway')}}[5m]))`, '{{upstream}}']],
      { unit: 'reqps', w: 8 },
    ),
    panel('Rate limited', [[`sum by (policy) (rate(gateway_rate_limited_total{${sel('gateway')}}[5m]))`, '{{policy}}']], {
      unit: 'reqps',
      w: 8,
    }),
    panel('Rate limit store errors', [[`sum(rate(gateway_rate_limit_store_errors_total{${sel('gateway')}}[5m]))`, 'errors']], {
      unit: 'ops',
      w: 8,
    }),
    panel(
      'Revocations mirrored in memory (-1: looked up in Redis)',
      [[`min by (pod) (gateway_denylist_mirror_entries{${sel('gateway')}})`, '{{pod}}']],
      {
        w: 24,
        description:
          'Each gateway pod holds the token denylist in memory, kept current by the revocations auth and users announce in Redis, so a request needs no Redis look-up for it. -1: the pod is loading it or its subscription broke, and looks revocations up in Redis per request meanwhile (slower, still correct).',
      },
    ),
  ],
  auth: () => [
    row('Authentication'),
    panel('Logins by result', [[`sum by (result) (rate(auth_logins_total{${sel('auth')}}[5m]))`, '{{result}}']], { unit: 'ops' }),
    panel('Refresh token reuse detected', [[`sum(increase(auth_refresh_reuse_detected_total{${sel('auth')}}[1h]))`, 'reuse / 1h']]),
    panel(
      'Password hashes: running, waiting, refused',
      [
        [`sum(auth_password_hashes_running{${sel('auth')}})`, 'running'],
        [`sum(auth_password_hashes_waiting{${sel('auth')}})`, 'waiting'],
        [`sum(rate(auth_password_hashes_refused_total{${sel('auth')}}[5m]))`, 'refused / s'],
      ],
      {
        w: 24,
        description:
          'Logins, registrations and password changes share a bounded argon2 queue: at most AUTH_ARGON2_CONCURRENCY hashes run and AUTH_ARGON2_QUEUE_MAX wait; past that, 503 overloaded at once. Refusals that last mean the auth pods need more cores or replicas.',
      },
    ),
  ],
  analytics: () => [
    row('Ingestion'),
    panel(
      'Events processed / stored / errors',
      [
        [`sum(rate(analytics_events_processed_total{${sel('analytics')}}[5m]))`, 'processed'],
        [`sum(rate(analytics_events_stored_total{${sel('analytics')}}[5m]))`, 'stored'],
        [`sum(rate(analytics_processing_errors_total{${sel('analytics')}}[5m]))`, 'errors'],
      ],
      { unit: 'ops', w: 8 },
    ),
    panel(
      'Consumer lag by partition',
      [[`max by (topic, partition) (analytics_consumer_lag{${sel('analytics')}})`, '{{topic}}/{{partition}}']],
      { w: 8 },
    ),
    panel('Dead-lettered events', [[`sum(increase(analytics_dlq_total{${sel('analytics')}}[10m]))`, 'DLQ / 10m']], { w: 8 }),
    panel(
      'Batch size p50 / p95',
      [0.5, 0.95].map((q) => [
        `histogram_quantile(${q}, sum by (le) (rate(analytics_batch_size_bucket{${sel('analytics')}}[5m])))`,
        `p${q * 100}`,
      ]),
      { w: 8 },
    ),
    panel(
      'Batch duration p95',
      [[`histogram_quantile(0.95, sum by (le) (rate(analytics_batch_duration_seconds_bucket{${sel('analytics')}}[5m])))`, 'p95']],
      { unit: 's', w: 8 },
    ),
    panel(
      'End-to-end event latency p95',
      [[`histogram_quantile(0.95, sum by (le) (rate(analytics_event_latency_seconds_bucket{${sel('analytics')}}[5m])))`, 'p95']],
      { unit: 's', w: 8 },
    ),
    row('Application events (tracking API)'),
    panel(
      'Tracked events accepted / refused / stored',
      [
        [`sum by (outcome) (rate(analytics_tracked_events_total{${sel('analytics')}}[5m]))`, '{{outcome}}'],
        [`sum(rate(analytics_app_events_stored_total{${sel('analytics')}}[5m]))`, 'stored'],
      ],
      { unit: 'ops', w: 8 },
    ),
    panel(
      'Accept → queryable p50 / p99',
      [0.5, 0.99].map((q) => [
        `histogram_quantile(${q}, sum by (le) (rate(analytics_app_event_latency_seconds_bucket{${sel('analytics')}}[5m])))`,
        `p${q * 100}`,
      ]),
      { unit: 's', w: 8 },
    ),
    panel('Users erased', [[`sum(increase(analytics_user_erasures_total{${sel('analytics')}}[1h]))`, 'erasures / 1h']], { w: 8 }),
  ],
  posts: () => [
    row('User events (erasure of deleted accounts)'),
    panel('Deleted users whose content was removed', [[`sum(increase(posts_user_erasures_total{${sel('posts')}}[1h]))`, 'erasures / 1h']], {
      w: 12,
      description: 'user.deleted events applied for the first time: their posts and comments removed',
    }),
    panel('User-event batches retried', [[`sum(increase(posts_event_retries_total{${sel('posts')}}[10m]))`, 'retries / 10m']], {
      w: 12,
      description: 'Batches whose handling failed and were retried; offsets move only after a batch succeeds',
    }),
  ],
  media: () => [
    row('Uploads'),
    panel(
      'Uploads by result',
      [
        [
          orZero(
            `sum by (result) (rate(media_uploads_total{${sel('media')}}[5m]))`,
            `sum(rate(media_processing_duration_seconds_count{${sel('media')}}[5m]))`,
          ),
          '{{result}}',
        ],
      ],
      {
        unit: 'ops',
        w: 8,
        description:
          'stored, or the refusal: payload_too_large, unsupported_image, image_too_large, image_unreadable, quota_exceeded, overloaded (past MEDIA_MAX_UPLOADS_IN_FLIGHT), dependency_unavailable (the store or the database)',
      },
    ),
    panel(
      'Processing time p50 / p95',
      [0.5, 0.95].map((q) => [
        `histogram_quantile(${q}, sum by (le) (rate(media_processing_duration_seconds_bucket{${sel('media')}}[5m])))`,
        `p${q * 100}`,
      ]),
      { unit: 's', w: 8, description: 'Checking, decoding, re-encoding and the three thumbnails of one image' },
    ),
    panel(
      'Uploads in flight',
      [
        [`max by (pod) (media_uploads_in_flight{${sel('media')}})`, '{{pod}}'],
        [`max(media_uploads_in_flight_limit{${sel('media')}})`, 'limit (each pod)'],
      ],
      { w: 8, description: 'Uploads received or processed now, per pod, against MEDIA_MAX_UPLOADS_IN_FLIGHT: past it more are refused as overloaded' },
    ),
    panel('Stored bytes', [[`sum(rate(media_stored_bytes_total{${sel('media')}}[5m]))`, 'stored']], {
      unit: 'Bps',
      w: 8,
      description: 'Bytes written to the store by uploads: the re-encoded originals and their thumbnails',
    }),
    row('Sweep and deletions'),
    panel('Sweep runs by result', [[`sum by (result) (increase(media_sweep_runs_total{${sel('media')}}[1h]))`, '{{result}} / 1h']], {
      w: 8,
      description: 'Each replica sweeps at start and every MEDIA_SWEEP_INTERVAL_SECONDS',
    }),
    panel(
      'Removed by the sweep',
      [
        [
          orZero(
            `sum by (kind) (increase(media_sweep_removed_total{${sel('media')}}[1h]))`,
            `sum(increase(media_sweep_runs_total{${sel('media')}}[1h]))`,
          ),
          '{{kind}} / 1h',
        ],
      ],
      { w: 8, description: 'pending: uploads abandoned past MEDIA_PENDING_GRACE_SECONDS; orphan: objects no row knows' },
    ),
    panel('Since the last finished sweep', [[`time() - max(media_sweep_last_success_timestamp_seconds{${sel('media')}} > 0)`, 'age']], {
      unit: 's',
      w: 8,
      description: 'The newest sweep any replica finished without error; GalionObjectSweepStale fires past a few intervals',
    }),
    panel(
      'Objects left by failed deletions',
      [[`sum(increase(media_object_delete_failures_total{${sel('media')}}[15m]))`, 'failures / 15m']],
      {
        w: 8,
        description: 'Objects of deleted images the store did not delete; the sweep removes them later',
      },
    ),
    row('User events (erasure of deleted accounts)'),
    panel('Deleted users whose images were removed', [[`sum(increase(media_user_erasures_total{${sel('media')}}[1h]))`, 'erasures / 1h']], {
      w: 8,
      description: 'user.deleted events applied for the first time: their images and objects removed',
    }),
    panel('User-event batches retried', [[`sum(increase(media_event_retries_total{${sel('media')}}[10m]))`, 'retries / 10m']], {
      w: 8,
      description: 'Batches whose handling failed (the store or the database down) and were retried',
    }),
  ],
  feed: () => [
    row('Read model (user events into Redis)'),
    panel('Events by outcome', [[`sum by (outcome) (rate(feed_events_total{${sel('feed')}}[5m]))`, '{{outcome}}']], {
      unit: 'ops',
      w: 8,
      description:
        'applied, duplicate (applied before), stale, gone (deleted), timeline-only (a big account), expired, not-feed, self-follow',
    }),
    panel('Consumer lag by partition', [[`max by (topic, partition) (feed_consumer_lag{${sel('feed')}})`, '{{topic}}/{{partition}}']], {
      w: 8,
      description: "What the feed's consumer group has not committed yet, read from the broker at scrape time",
    }),
    panel(
      'Dead-lettered / batches retried',
      [
        [`sum(increase(feed_dlq_total{${sel('feed')}}[10m]))`, 'DLQ / 10m'],
        [`sum(increase(feed_processing_errors_total{${sel('feed')}}[10m]))`, 'retries / 10m'],
      ],
      { w: 8, description: 'Retries: batches whose handling failed (Redis down); offsets move only after a batch succeeds' },
    ),
    panel(
      'Fan-out, copies on follow, removals',
      [
        [`sum(rate(feed_fanout_entries_total{${sel('feed')}}[5m]))`, 'home feeds written'],
        [`sum(rate(feed_fanout_skipped_total{${sel('feed')}}[5m]))`, 'posts of big accounts (timeline only)'],
        [`sum(rate(feed_follow_backfilled_entries_total{${sel('feed')}}[5m]))`, 'entries copied by follows'],
        [`sum(rate(feed_entries_removed_total{${sel('feed')}}[5m]))`, 'entries removed'],
      ],
      { unit: 'ops', w: 8 },
    ),
    panel(
      'Batch duration p50 / p95',
      [0.5, 0.95].map((q) => [
        `histogram_quantile(${q}, sum by (le) (rate(feed_batch_duration_seconds_bucket{${sel('feed')}}[5m])))`,
        `p${q * 100}`,
      ]),
      { unit: 's', w: 8, description: 'Time to apply one batch of events to Redis (one pipeline of Lua scripts)' },
    ),
    panel(
      'Timelines merged per home read p95',
      [[`histogram_quantile(0.95, sum by (le) (rate(feed_home_merged_timelines_bucket{${sel('feed')}}[5m])))`, 'p95']],
      { w: 8, description: 'Big accounts (more followers than FEED_FANOUT_MAX_FOLLOWERS) whose timelines a home read merges in' },
    ),
  ],
};

/** A service's dashboard: RED, its own panels, then its outbox and database pool if it has them, then the process. */
const servicePanels = ({ name, dependencies, outbox: hasOutbox }) => [
  ...red(name),
  ...(ownPanels[name]?.() ?? []),
  ...(hasOutbox ? outbox(name) : []),
  ...(dependencies.includes('postgres') ? dbPool(name) : []),
  ...runtime(name),
];
// In manifest order and before the platform dashboards: panel ids are given out as panels are made.
const panelsOf = Object.fromEntries(services.map((service) => [service.name, servicePanels(service)]));

const jobsOf = (some) => `job=~"${some.map((service) => service.name).join('|')}",namespace=~"$namespace"`;
const allJobs = jobsOf(services);
const overview = [
  row('Platform (RED per service)'),
  panel('Request rate', [[`sum by (job) (rate(http_server_request_duration_seconds_count{${allJobs}}[5m]))`, '{{job}}']], {
    unit: 'reqps',
    w: 8,
  }),
  panel(
    'Error ratio (5xx)',
    [
      [
        zeroWhenNone(
          `sum by (job) (rate(http_server_request_duration_seconds_count{${allJobs},status_code=~"5.."}[5m]))`,
          `sum by (job) (rate(http_server_request_duration_seconds_count{${allJobs}}[5m]))`,
          true,
        ),
        '{{job}}',
      ],
    ],
    { unit: 'percentunit', w: 8 },
  ),
  panel(
    'p95 latency',
    [
      [
        `histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{${allJobs},route!~"/(livez|readyz|metrics)"}[5m])))`,
        '{{job}}',
      ],
    ],
    { unit: 's', w: 8 },
  ),
  panel('Targets up', [[`sum by (job) (up{${allJobs}})`, '{{job}}']], { w: 8 }),
  panel('CPU by service', [[`sum by (job) (rate(process_cpu_seconds_total{${allJobs}}[5m]))`, '{{job}}']], { w: 8 }),
  panel('Memory by service', [[`sum by (job) (process_resident_memory_bytes{${allJobs}})`, '{{job}}']], { unit: 'bytes', w: 8 }),
  panel(
    'Gateway upstream errors',
    [
      [
        zeroWhenNone(
          `sum by (upstream) (rate(gateway_upstream_request_duration_seconds_count{${sel('gateway', 'status_code=~"5.."')}}[5m]))`,
          `sum by (upstream) (rate(gateway_upstream_request_duration_seconds_count{${sel('gateway')}}[5m]))`,
        ),
        '{{upstream}}',
      ],
    ],
    { unit: 'reqps' },
  ),
  panel('Logins by result', [[`sum by (result) (rate(auth_logins_total{${sel('auth')}}[5m]))`, '{{result}}']], { unit: 'ops' }),
];

const producers = jobsOf(services.filter((service) => service.outbox));
const pipeline = [
  row('Producers (outbox)'),
  panel('Outbox backlog', [[`sum by (job) (outbox_pending_events{${producers}})`, '{{job}}']], { w: 8 }),
  panel('Oldest pending event', [[`max by (job) (outbox_oldest_pending_age_seconds{${producers}})`, '{{job}}']], { unit: 's', w: 8 }),
  panel(
    'Produce rate / errors',
    [
      [`sum by (job) (rate(outbox_published_total{${producers}}[5m]))`, 'published {{job}}'],
      [`sum by (job) (rate(outbox_publish_errors_total{${producers}}[5m]))`, 'errors {{job}}'],
    ],
    { unit: 'ops', w: 8 },
  ),
  row('Consumer (analytics)'),
  // Every analytics replica reports the whole group's lag (read from the broker): one value per partition, then the sum.
  panel('Consumer lag', [[`sum by (topic) (max by (topic, partition) (analytics_consumer_lag{${sel('analytics')}}))`, '{{topic}}']], {
    w: 8,
  }),
  panel(
    'Processed / stored',
    [
      [`sum(rate(analytics_events_processed_total{${sel('analytics')}}[5m]))`, 'processed'],
      [`sum(rate(analytics_events_stored_total{${sel('analytics')}}[5m]))`, 'stored'],
    ],
    { unit: 'ops', w: 8 },
  ),
  panel(
    'DLQ and processing errors',
    [
      [`sum(increase(analytics_dlq_total{${sel('analytics')}}[10m]))`, 'DLQ / 10m'],
      [`sum(increase(analytics_processing_errors_total{${sel('analytics')}}[10m]))`, 'errors / 10m'],
    ],
    { w: 8 },
  ),
  panel(
    'End-to-end latency (API call to stored row)',
    [0.5, 0.95, 0.99].map((q) => [
      `histogram_quantile(${q}, sum by (le) (rate(analytics_event_latency_seconds_bucket{${sel('analytics')}}[5m])))`,
      `p${Math.round(q * 100)}`,
    ]),
    { unit: 's', w: 24 },
  ),
  row('Consumer (feed)'),
  panel('Consumer lag', [[`sum by (topic) (max by (topic, partition) (feed_consumer_lag{${sel('feed')}}))`, '{{topic}}']], { w: 8 }),
  panel('Events applied', [[`sum(rate(feed_events_total{${sel('feed', 'outcome="applied"')}}[5m]))`, 'applied']], { unit: 'ops', w: 8 }),
  panel(
    'DLQ and retried batches',
    [
      [`sum(increase(feed_dlq_total{${sel('feed')}}[10m]))`, 'DLQ / 10m'],
      [`sum(increase(feed_processing_errors_total{${sel('feed')}}[10m]))`, 'retries / 10m'],
    ],
    { w: 8 },
  ),
];

const files = {
  ...Object.fromEntries(
    services.map(({ name, chart }) => [
      `${relative(CHARTS, join(ROOT, chart))}/dashboards/${name}.json`,
      dashboard(`galion-${name}`, `Galion / ${name[0].toUpperCase()}${name.slice(1)}`, panelsOf[name], [name]),
    ]),
  ),
  'galion/dashboards/overview.json': dashboard('galion-overview', 'Galion / Overview', overview, ['overview']),
  'galion/dashboards/event-pipeline.json': dashboard('galion-event-pipeline', 'Galion / Event pipeline', pipeline, ['events']),
};

writeOrCheck(CHARTS, files, 'scripts/charts/gen-dashboards.mjs');
