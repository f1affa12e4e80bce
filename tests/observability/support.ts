/**
 * Helpers of the live observability checks: the chart's alert rules and dashboards as a cluster
 * would get them, a webhook receiver standing in for the pager, PromQL reading, Jaeger traces.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KUBE_VERSIONS, NAMESPACE, ROOT, mustRun, parseYaml, prepare, templateArgs, tool, type K8sObject } from '../../charts/test/tools';
export { metricNames } from '../../charts/test/promql';

export { NAMESPACE, ROOT };

/** Installs Jaeger, Prometheus and Alertmanager (scripts/install-observability-tools.sh) and the chart tools; quick when cached. */
export const installTools = (): void => {
  execFileSync('bash', [join(ROOT, 'scripts/install-observability-tools.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  prepare();
};

// ---------------------------------------------------------------------------------------------
// The chart

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}
export interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string }[] };
  panels: { id: number; type: string; title: string; targets?: { refId: string; expr: string }[] }[];
}

/**
 * The umbrella chart rendered as a cluster with kube-prometheus-stack gets it: PrometheusRules and
 * dashboard ConfigMaps on, with the given `--set` values (e.g. short alert `for` durations).
 */
export const renderMonitoring = (sets: Record<string, string>): { groups: RuleGroup[]; dashboards: Dashboard[] } => {
  const args = templateArgs(KUBE_VERSIONS[0] ?? '1.33.0', [
    '--set',
    'global.monitoring.prometheusRule.enabled=true',
    '--set',
    'global.monitoring.dashboards.enabled=true',
    ...Object.entries(sets).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ]);
  const objects = parseYaml(mustRun(tool('helm'), args)).filter(Boolean) as K8sObject[];
  const groups = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups as RuleGroup[]);
  const dashboards = objects
    .filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
    .flatMap((o) => Object.values(o.data ?? {}).map((json) => JSON.parse(json) as Dashboard));
  return { groups, dashboards };
};

/** Writes rule groups as a Prometheus rules file (JSON is YAML). */
export const writeRulesFile = (dir: string, groups: RuleGroup[]): string => {
  const file = join(dir, 'galion-rules.yaml');
  writeFileSync(file, JSON.stringify({ groups }, null, 2));
  return file;
};

/** Grafana's variables as a dashboard would resolve them here: one namespace, short intervals. */
export const substituteVariables = (expr: string, namespace: string): string =>
  expr
    .replace(/\$\{namespace(?::[a-z]+)?\}|\$namespace\b/g, namespace)
    .replace(/\$\{?__rate_interval\}?/g, '1m')
    .replace(/\$\{?__interval\}?/g, '15s')
    .replace(/\$\{?__range\}?/g, '5m');

/** The metric family a sample name belongs to: `x_bucket`, `x_count`, `x_sum` are histogram `x`. */
export const familyOf = (name: string, families: Set<string>): string => {
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (name.endsWith(suffix) && families.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
};

// ---------------------------------------------------------------------------------------------
// /metrics text

export interface ScrapedFamily {
  type: string;
  /** Label names seen on its samples (without `le` and `quantile`). */
  labels: Set<string>;
  samples: number;
}

/** Reads Prometheus text exposition: every family's type, its samples' label names and how many samples it has. */
export const parseExposition = (text: string): Map<string, ScrapedFamily> => {
  const families = new Map<string, ScrapedFamily>();
  for (const line of text.split('\n')) {
    const [, typed, type] = /^# TYPE (\S+) (\S+)/.exec(line) ?? [];
    if (typed && type) {
      families.set(typed, { type, labels: new Set(), samples: 0 });
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const [, name, , labels = ''] = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line) ?? [];
    if (!name) continue;
    const family = families.get(familyOf(name, new Set(families.keys())));
    if (!family) continue;
    family.samples++;
    for (const [, label = ''] of labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (label !== 'le' && label !== 'quantile') family.labels.add(label);
    }
  }
  return families;
};

// ---------------------------------------------------------------------------------------------
// Alertmanager's webhook

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}
export interface WebhookNotification {
  receivedAt: number;
  status: 'firing' | 'resolved';
  receiver: string;
  alerts: WebhookAlert[];
}

export interface WebhookReceiver {
  url: string;
  notifications: WebhookNotification[];
  /** Waits for a notification received after `since` (ms) carrying a matching alert. */
  waitFor(
    match: { alertname: string; status: 'firing' | 'resolved'; labels?: Record<string, string>; since?: number },
    timeoutMs: number,
  ): Promise<WebhookAlert>;
  close(): Promise<void>;
}

/** An HTTP server recording what Alertmanager POSTs to it, as a pager would receive it. */
export const startWebhookReceiver = async (): Promise<WebhookReceiver> => {
  const notifications: WebhookNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        if (req.method === 'POST')
          notifications.push({
            ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<WebhookNotification, 'receivedAt'>),
            receivedAt: Date.now(),
          });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const find = (match: Parameters<WebhookReceiver['waitFor']>[0]): WebhookAlert | undefined => {
    for (const notification of notifications) {
      if (notification.receivedAt < (match.since ?? 0)) continue;
      const alert = notification.alerts.find(
        (a) =>
          a.status === match.status &&
          a.labels.alertname === match.alertname &&
          Object.entries(match.labels ?? {}).every(([k, v]) => a.labels[k] === v),
      );
      if (alert) return alert;
    }
    return undefined;
  };
  return {
    url: `http://127.0.0.1:${port}/alertmanager`,
    notifications,
    async waitFor(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = notifications.flatMap((n) => n.alerts.map((a) => `${a.status} ${a.labels.alertname} ${a.labels.job ?? ''}`));
          throw new Error(
            `no ${match.status} ${match.alertname} ${JSON.stringify(match.labels ?? {})} at the webhook within ${timeoutMs / 1000} s; received: ${seen.join('; ') || 'nothing'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

// ---------------------------------------------------------------------------------------------
// Jaeger

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpTrace {
  result?: {
    resourceSpans?: {
      resource?: { attributes?: OtlpAttribute[] };
      scopeSpans?: {
        spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; attributes?: OtlpAttribute[] }[];
      }[];
    }[];
  };
}

const attributeValue = (value: OtlpValue): string | number | boolean =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? '';

const attributes = (list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value)]));

/** A trace's spans from Jaeger's API v3 (OTLP JSON), flattened; empty while Jaeger has none. */
export const fetchTrace = async (queryUrl: string, traceId: string): Promise<TraceSpan[]> => {
  const response = await fetch(`${queryUrl}/api/v3/traces/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`Jaeger /api/v3/traces/${traceId}: HTTP ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as OtlpTrace;
  const spans: TraceSpan[] = [];
  for (const resourceSpans of body.result?.resourceSpans ?? []) {
    const service = String(attributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind ?? 0,
          service,
          attributes: attributes(span.attributes),
        });
      }
    }
  }
  return spans;
};

/** The span and its ancestors, nearest first, as far as they are in the trace. */
export const ancestry = (spans: TraceSpan[], span: TraceSpan): TraceSpan[] => {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: TraceSpan[] = [];
  for (let current: TraceSpan | undefined = span; current && chain.length < 200; current = byId.get(current.parentSpanId))
    chain.push(current);
  return chain;
};

/** One line per span, indented under its parent, for failure messages. */
export const describeTrace = (spans: TraceSpan[]): string => {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, TraceSpan[]>();
  for (const span of spans) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const kinds = Object.fromEntries(Object.entries(SPAN_KIND).map(([name, value]) => [value, name]));
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const orphan = depth === 0 && span.parentSpanId ? ` (parent ${span.parentSpanId} not in the trace)` : '';
      lines.push(`${'  '.repeat(depth)}${span.service} ${kinds[span.kind] ?? span.kind} "${span.name}" ${span.spanId}${orphan}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
};
