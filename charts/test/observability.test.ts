/**
 * Alerts and dashboards: the PrometheusRules rendered from the production profile are checked
 * with `promtool check rules` and unit-tested with `promtool test rules` (each alert fires and
 * stays quiet); every alert has a runbook in docs/runbooks; every metric a rule or a dashboard
 * queries is in charts/galion/metrics-contract.json (which a live scrape test compares with the
 * services' real /metrics).
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricNames } from './promql';
import { CHARTS, K8sObject, ROOT, SERVICES, UMBRELLA, mustRun, prepare, renderObjects, run, tempDir } from './tools';

jest.setTimeout(300_000);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Contract {
  metrics: { name: string; type: string; labels: string[]; services: string[] }[];
  external: { name: string; labels: string[] }[];
  targetLabels: string[];
}

const contract = JSON.parse(readFileSync(join(UMBRELLA, 'metrics-contract.json'), 'utf8')) as Contract;
const known = new Set<string>();
for (const m of contract.metrics) {
  known.add(m.name);
  if (m.type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) known.add(m.name + suffix);
}
for (const m of contract.external) known.add(m.name);
const knownLabels = new Set([
  ...contract.targetLabels,
  ...contract.metrics.flatMap((m) => m.labels),
  ...contract.external.flatMap((m) => m.labels),
]);

/** Label names an expression groups by or matches on. */
const labelNames = (expr: string): string[] => {
  const out: string[] = [];
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g))
    out.push(
      ...m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  for (const m of expr.matchAll(/\{([^}]*)\}/g)) for (const l of m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) out.push(l[1]);
  return [...new Set(out)];
};

let objects: K8sObject[] = [];
let rules: { groups: { name: string; rules: Rule[] }[] } = { groups: [] };
beforeAll(() => {
  prepare();
  objects = renderObjects('production');
  rules = { groups: objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups) };
}, 1_800_000);

test('metricNames reads PromQL the way the checks need', () => {
  expect(metricNames('histogram_quantile(0.95, sum by (job, le) (rate(foo_bucket{job="a",x=~"b|c"}[5m]))) > 0.5')).toEqual(['foo_bucket']);
  expect(metricNames('(a_total / b) and on (job) delta(c[10m]) > 0')).toEqual(['a_total', 'b', 'c']);
  // The exponent of a number is not a metric.
  expect(metricNames('sum(d_bytes) > 1e3')).toEqual(['d_bytes']);
});

describe('alert rules', () => {
  const alerts = () => rules.groups.flatMap((g) => g.rules);

  test('every service has its rule group and the alerts the issue asks for exist', () => {
    expect(rules.groups.map((g) => g.name).sort()).toEqual(SERVICES.map((service) => `galion-${service}.rules`).sort());
    const names = new Set(alerts().map((r) => r.alert));
    for (const name of [
      'GalionHighErrorRatio',
      'GalionHighLatencyP95',
      'GalionTargetDown',
      'GalionConsumerLagGrowing',
      'GalionDLQReceiving',
      'GalionOutboxBacklogGrowing',
      'GalionDBPoolSaturated',
      'GalionPodRestarting',
      'GalionObjectSweepStale',
      'GalionObjectDeletesFailing',
      'GalionUploadsUnavailable',
    ])
      expect(names).toContain(name);
  });

  test('promtool check rules accepts them', () => {
    const dir = tempDir('rules');
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, JSON.stringify(rules));
    const r = run('promtool', ['check', 'rules', file]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  test('promtool test rules: each alert fires when it should and stays quiet when it should not', () => {
    const dir = tempDir('rules-test');
    const stripped = { groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _annotations, ...rule }) => rule) })) };
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(stripped));
    const tests = readdirSync(join(__dirname, 'alerts')).filter((f) => f.endsWith('.test.yaml'));
    expect(tests.length).toBeGreaterThan(0);
    for (const t of tests) copyFileSync(join(__dirname, 'alerts', t), join(dir, t));
    const r = run('promtool', ['test', 'rules', ...tests], { cwd: dir });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
    // Every alert name is exercised by the unit tests.
    const text = tests.map((t) => readFileSync(join(dir, t), 'utf8')).join('\n');
    for (const name of new Set(alerts().map((a) => a.alert))) expect(text).toContain(`alertname: ${name}`);
  });

  test('promtool test rules would fail if an alert never fired (the harness can fail)', () => {
    const dir = tempDir('rules-neg');
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: [{ name: 'g', rules: [{ alert: 'Never', expr: 'vector(1) < 0' }] }] }));
    writeFileSync(
      join(dir, 'neg.test.yaml'),
      'rule_files: [rules.yaml]\ntests:\n  - interval: 1m\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: Never\n        exp_alerts: [{ exp_labels: {} }]\n',
    );
    const r = run('promtool', ['test', 'rules', 'neg.test.yaml'], { cwd: dir });
    expect(r.status).not.toBe(0);
  });

  test('every alert has severity, summary, description, a `for` from values and a runbook in docs/runbooks', () => {
    for (const rule of alerts()) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      expect(rule.for).toMatch(/^\d+[smh]$/);
      const url = rule.annotations?.runbook_url ?? '';
      expect(url).toMatch(new RegExp(`/docs/runbooks/${rule.alert}\\.md$`));
      expect(existsSync(join(ROOT, 'docs/runbooks', `${rule.alert}.md`))).toBe(true);
    }
  });

  test('`for` durations and thresholds follow the values (a live test can shorten them)', () => {
    const short = renderObjects('production', undefined, [
      '--set',
      'global.alerts.errorRatio.for=30s',
      '--set',
      'global.alerts.targetDown.for=15s',
    ]);
    const rule = (name: string) =>
      short
        .filter((o) => o.kind === 'PrometheusRule')
        .flatMap((o) => o.spec.groups[0].rules)
        .find((r: Rule) => r.alert === name);
    expect(rule('GalionHighErrorRatio').for).toBe('30s');
    expect(rule('GalionTargetDown').for).toBe('15s');
  });

  test('every metric and label the rules use is in the metrics contract', () => {
    for (const rule of alerts()) {
      for (const name of metricNames(rule.expr))
        expect({ alert: rule.alert, metric: name, known: known.has(name) }).toEqual({ alert: rule.alert, metric: name, known: true });
      for (const label of labelNames(rule.expr))
        expect({ alert: rule.alert, label, known: knownLabels.has(label) }).toEqual({ alert: rule.alert, label, known: true });
      expect(labelNames(rule.expr)).not.toContain('service');
    }
  });
});

describe('dashboards', () => {
  const files = [
    ...SERVICES.map((s) => join(CHARTS, s, 'dashboards', `${s}.json`)),
    join(UMBRELLA, 'dashboards/overview.json'),
    join(UMBRELLA, 'dashboards/event-pipeline.json'),
  ];

  test('are what scripts/charts/gen-dashboards.mjs writes', () => {
    const r = run(process.execPath, [join(ROOT, 'scripts/charts/gen-dashboards.mjs'), '--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test.each(files)('%s: every panel query names only metrics of the contract', (file) => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8'));
    expect(dashboard.uid).toMatch(/^galion-/);
    const panels = dashboard.panels.filter((p: any) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(3);
    for (const p of panels) {
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        const names = metricNames(t.expr);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names)
          expect({ panel: p.title, metric: name, known: known.has(name) }).toEqual({ panel: p.title, metric: name, known: true });
        for (const label of labelNames(t.expr))
          expect({ panel: p.title, label, known: knownLabels.has(label) }).toEqual({ panel: p.title, label, known: true });
      }
    }
  });

  test('the contract check would catch a metric the services do not export', () => {
    expect(metricNames('sum(rate(analytics_events_ingested_total[5m]))').every((n) => known.has(n))).toBe(false);
  });

  test('the event pipeline dashboard covers outbox backlog, produce rate, consumer lag, DLQ and end-to-end latency', () => {
    const text = readFileSync(join(UMBRELLA, 'dashboards/event-pipeline.json'), 'utf8');
    for (const m of [
      'outbox_pending_events',
      'outbox_published_total',
      'analytics_consumer_lag',
      'analytics_dlq_total',
      'analytics_event_latency_seconds_bucket',
    ])
      expect(text).toContain(m);
  });

  test('the production install ships every dashboard (one per service, the overview, the event pipeline) labelled for the Grafana sidecar', () => {
    const maps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    expect(maps.map((m) => m.metadata.name).sort()).toEqual(
      [...SERVICES, 'event-pipeline', 'overview'].sort().map((n) => `galion-dashboard-${n}`),
    );
    for (const m of maps) for (const json of Object.values(m.data ?? {})) expect(JSON.parse(json).panels.length).toBeGreaterThan(0);
  });

  test('metrics-contract.json lists each metric once, with services', () => {
    const names = contract.metrics.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of contract.metrics) expect(m.services.length).toBeGreaterThan(0);
    expect(
      mustRun(process.execPath, ['-e', 'JSON.parse(require("fs").readFileSync(process.argv[1]))', join(UMBRELLA, 'metrics-contract.json')]),
    ).toBe('');
  });
});
