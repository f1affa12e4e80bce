import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports';
import { makeRunDir, startServerProcess, type ServerProcess } from './processes';

/*
 * The observability stack on loopback, for live checks: Jaeger v2 (in-memory storage, OTLP
 * receivers, query API), Prometheus (scraping given targets, evaluating given rule files, alerting
 * through Alertmanager) and Alertmanager (routing everything to one webhook). Each runs from a temp
 * run dir whose watchdog stops it should the Node process die first. Configs are written as JSON,
 * which every YAML reader accepts. scripts/install-observability-tools.sh installs the binaries.
 */

const installHint = 'run scripts/install-observability-tools.sh to install it';

const cacheDir = (): string => join(process.env.GALION_CACHE_DIR || join(homedir(), '.cache', 'galion'), 'observability');

/** The Jaeger v2 binary that scripts/install-observability-tools.sh builds into the Galion cache. */
export const jaegerBinary = (): string => {
  const binary = join(cacheDir(), 'bin', 'jaeger');
  if (!existsSync(binary)) throw new Error(`Jaeger is missing from ${binary}: ${installHint}`);
  return binary;
};

const onPath = (command: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Debian names the binary prometheus-alertmanager; upstream builds call it alertmanager. */
const alertmanagerBinary = (): string => ['prometheus-alertmanager', 'alertmanager'].find(onPath) ?? 'prometheus-alertmanager';

/** Polls `url` until it answers 2xx (after the ready line in the log, some servers still warm up). */
const waitForOk = async (url: string, name: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs / 1000} s (${last})`);
};

const getJson = async <T>(url: string, init?: RequestInit): Promise<T> => {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
};

// ---------------------------------------------------------------------------------------------
// Jaeger

export interface JaegerOptions {
  /** Traces kept in memory (oldest dropped first). Default 100 000. */
  maxTraces?: number;
}

export interface JaegerHandle {
  /** OTLP/HTTP receiver base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces). */
  otlpHttpUrl: string;
  /** OTLP/gRPC receiver, http://127.0.0.1:<port>. */
  otlpGrpcUrl: string;
  /** Query service: /api/v3/traces, /api/traces?service=..., /api/services. */
  queryUrl: string;
  stop(): Promise<void>;
}

const jaegerConfig = (
  ports: { otlpGrpc: number; otlpHttp: number; queryHttp: number; queryGrpc: number; health: number },
  maxTraces: number,
) => ({
  service: {
    extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
    pipelines: {
      traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] },
    },
    // No internal metrics endpoint: it would listen on a fixed port (8888).
    telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
  },
  extensions: {
    healthcheckv2: { use_v2: true, http: { endpoint: `127.0.0.1:${ports.health}` } },
    jaeger_query: {
      storage: { traces: 'memstore' },
      http: { endpoint: `127.0.0.1:${ports.queryHttp}` },
      grpc: { endpoint: `127.0.0.1:${ports.queryGrpc}` },
    },
    jaeger_storage: { backends: { memstore: { memory: { max_traces: maxTraces } } } },
  },
  receivers: {
    otlp: {
      protocols: {
        grpc: { endpoint: `127.0.0.1:${ports.otlpGrpc}` },
        http: { endpoint: `127.0.0.1:${ports.otlpHttp}` },
      },
    },
  },
  // Spans are queryable a moment after they arrive.
  processors: { batch: { timeout: '100ms' } },
  exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
});

/** Starts Jaeger v2 all-in-one with in-memory storage: OTLP gRPC and HTTP receivers and the query API on free ports. */
export const startJaeger = async (options: JaegerOptions = {}): Promise<JaegerHandle> => {
  const command = jaegerBinary();
  const ports = {
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
    queryHttp: await freePort(),
    queryGrpc: await freePort(),
    health: await freePort(),
  };
  const runDir = makeRunDir('galion-jaeger-');
  const configFile = join(runDir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify(jaegerConfig(ports, options.maxTraces ?? 100_000), null, 2));
  const server: ServerProcess = await startServerProcess({
    name: 'Jaeger',
    command,
    args: ['--config', `file:${configFile}`],
    logFile: join(runDir, 'jaeger.log'),
    cwd: runDir,
    readyText: 'Everything is ready',
    timeoutMs: 60_000,
    stopSignal: 'SIGTERM',
    installHint,
    runDir,
  });
  const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
  try {
    await waitForOk(`${queryUrl}/api/services`, 'Jaeger');
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    otlpHttpUrl: `http://127.0.0.1:${ports.otlpHttp}`,
    otlpGrpcUrl: `http://127.0.0.1:${ports.otlpGrpc}`,
    queryUrl,
    stop: () => server.stop(),
  };
};

// ---------------------------------------------------------------------------------------------
// Alertmanager

export interface AlertmanagerOptions {
  /** Every alert is routed here (Alertmanager's webhook JSON), resolved ones too. */
  webhookUrl: string;
  /** Route timings; short defaults so a test sees notifications within seconds. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Labels alerts are grouped by. Default: alertname and job. */
  groupBy?: string[];
}

export interface AlertmanagerHandle {
  url: string;
  stop(): Promise<void>;
  /** Alerts Alertmanager holds now (GET /api/v2/alerts). */
  alerts(): Promise<{ labels: Record<string, string>; status: { state: string }; startsAt: string; endsAt: string }[]>;
}

/** Starts Alertmanager (Debian's prometheus-alertmanager) without clustering, routing every alert to one webhook. */
export const startAlertmanager = async (options: AlertmanagerOptions): Promise<AlertmanagerHandle> => {
  const port = await freePort();
  const runDir = makeRunDir('galion-alertmanager-');
  const configFile = join(runDir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        route: {
          receiver: 'webhook',
          group_by: options.groupBy ?? ['alertname', 'job'],
          group_wait: options.groupWait ?? '1s',
          group_interval: options.groupInterval ?? '1s',
          repeat_interval: options.repeatInterval ?? '1h',
        },
        receivers: [{ name: 'webhook', webhook_configs: [{ url: options.webhookUrl, send_resolved: true, max_alerts: 0 }] }],
      },
      null,
      2,
    ),
  );
  const url = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'Alertmanager',
    command: alertmanagerBinary(),
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(runDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip cluster: it would listen on a fixed port (9094).
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    logFile: join(runDir, 'alertmanager.log'),
    cwd: runDir,
    readyText: 'Listening on',
    timeoutMs: 30_000,
    stopSignal: 'SIGTERM',
    installHint,
    runDir,
  });
  try {
    await waitForOk(`${url}/-/ready`, 'Alertmanager');
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url,
    stop: () => server.stop(),
    alerts: () => getJson(`${url}/api/v2/alerts`),
  };
};

// ---------------------------------------------------------------------------------------------
// Prometheus

export interface ScrapeTarget {
  /** The job label (the ServiceMonitors make it the service name). */
  job: string;
  /** The target's base URL (its /metrics is scraped) or the full metrics URL. */
  url: string;
  /** Target labels, as the ServiceMonitor relabelings would set them (namespace, pod, container). */
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  scrapeTargets?: ScrapeTarget[];
  /** Scrape configs used as they are (e.g. from `serviceMonitorScrapeConfigs`), after the targets'. */
  scrapeConfigs?: object[];
  /** Rule files (YAML with `groups:`), loaded as they are. */
  ruleFiles?: string[];
  /** Where firing and resolved alerts are sent. */
  alertmanagerUrl?: string;
  scrapeIntervalSeconds?: number;
  evaluationIntervalSeconds?: number;
  /** The program to run; Debian's `prometheus` by default (built without Kubernetes discovery). */
  binary?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface PromTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface PrometheusHandle {
  url: string;
  stop(): Promise<void>;
  /** An instant query; a scalar result comes back as one sample without labels. Fails on a PromQL error. */
  query(promql: string): Promise<PromSample[]>;
  /** Pending and firing alerts (GET /api/v1/alerts). */
  alerts(): Promise<PromAlert[]>;
  /** Active scrape targets and their health. */
  targets(): Promise<PromTarget[]>;
  /** Names of every metric Prometheus has stored. */
  metricNames(): Promise<string[]>;
}

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

const scrapeConfig = (target: ScrapeTarget, intervalSeconds: number) => {
  const url = new URL(target.url);
  return {
    job_name: target.job,
    scheme: url.protocol.replace(/:$/, ''),
    metrics_path: url.pathname === '/' || url.pathname === '' ? '/metrics' : url.pathname,
    scrape_interval: `${intervalSeconds}s`,
    scrape_timeout: `${intervalSeconds}s`,
    static_configs: [{ targets: [url.host], labels: target.labels ?? {} }],
  };
};

/** The parts of a monitoring.coreos.com/v1 ServiceMonitor that Galion's charts use. */
export interface ServiceMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    jobLabel?: string;
    selector: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchNames?: string[]; any?: boolean };
    endpoints: {
      port?: string;
      path?: string;
      scheme?: string;
      interval?: string;
      scrapeTimeout?: string;
      relabelings?: { sourceLabels?: string[]; targetLabel?: string; action?: string; regex?: string; replacement?: string; separator?: string }[];
    }[];
  };
}

/** A Kubernetes label name as Prometheus service discovery writes it in a meta label. */
const metaLabelName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * What the Prometheus Operator makes of ServiceMonitors, for a Prometheus outside the cluster:
 * one scrape config per endpoint, with EndpointSlice discovery through `kubeconfig`, kept to the
 * Services whose labels match the selector and to the named port, labelled namespace, service,
 * pod, container and endpoint, `job` taken from the Service's `jobLabel` label (else its name),
 * and the endpoint's own relabelings last.
 */
export const serviceMonitorScrapeConfigs = (monitors: ServiceMonitor[], kubeconfig: string): object[] =>
  monitors.flatMap((monitor) =>
    monitor.spec.endpoints.map((endpoint, index) => {
      const namespaces = monitor.spec.namespaceSelector?.any ? undefined : (monitor.spec.namespaceSelector?.matchNames ?? [monitor.metadata.namespace]);
      const selectorKeeps = Object.entries(monitor.spec.selector.matchLabels ?? {}).map(([name, value]) => ({
        action: 'keep',
        source_labels: [`__meta_kubernetes_service_label_${metaLabelName(name)}`, `__meta_kubernetes_service_labelpresent_${metaLabelName(name)}`],
        regex: `(${value});true`,
      }));
      const job = monitor.spec.jobLabel
        ? [{ source_labels: [`__meta_kubernetes_service_label_${metaLabelName(monitor.spec.jobLabel)}`], target_label: 'job', regex: '(.+)', replacement: '${1}' }]
        : [];
      return {
        job_name: `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${index}`,
        kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: kubeconfig, ...(namespaces && { namespaces: { names: namespaces } }) }],
        scheme: endpoint.scheme ?? 'http',
        metrics_path: endpoint.path ?? '/metrics',
        ...(endpoint.interval && { scrape_interval: endpoint.interval }),
        ...(endpoint.scrapeTimeout && { scrape_timeout: endpoint.scrapeTimeout }),
        relabel_configs: [
          ...selectorKeeps,
          ...(endpoint.port ? [{ action: 'keep', source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: endpoint.port }] : []),
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
          { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
          ...job,
          ...(endpoint.port ? [{ target_label: 'endpoint', replacement: endpoint.port }] : []),
          ...(endpoint.relabelings ?? []).map((r) => ({
            ...(r.sourceLabels && { source_labels: r.sourceLabels }),
            ...(r.targetLabel && { target_label: r.targetLabel }),
            ...(r.action && { action: r.action.toLowerCase() }),
            ...(r.regex !== undefined && { regex: r.regex }),
            ...(r.replacement !== undefined && { replacement: r.replacement }),
            ...(r.separator !== undefined && { separator: r.separator }),
          })),
        ],
      };
    }),
  );

/**
 * Starts Debian's Prometheus on a free port: it scrapes the given targets, evaluates the rule files
 * and sends alerts to Alertmanager (resending every second, so a test need not wait a minute).
 */
export const startPrometheus = async (options: PrometheusOptions): Promise<PrometheusHandle> => {
  const port = await freePort();
  const runDir = makeRunDir('galion-prometheus-');
  const configFile = join(runDir, 'prometheus.yml');
  const scrapeInterval = options.scrapeIntervalSeconds ?? 15;
  const evaluationInterval = options.evaluationIntervalSeconds ?? scrapeInterval;
  const config = {
    global: { scrape_interval: `${scrapeInterval}s`, scrape_timeout: `${scrapeInterval}s`, evaluation_interval: `${evaluationInterval}s` },
    rule_files: options.ruleFiles ?? [],
    ...(options.alertmanagerUrl && {
      alerting: {
        alertmanagers: [
          {
            scheme: new URL(options.alertmanagerUrl).protocol.replace(/:$/, ''),
            path_prefix: new URL(options.alertmanagerUrl).pathname,
            static_configs: [{ targets: [new URL(options.alertmanagerUrl).host] }],
          },
        ],
      },
    }),
    scrape_configs: [...(options.scrapeTargets ?? []).map((target) => scrapeConfig(target, scrapeInterval)), ...(options.scrapeConfigs ?? [])],
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'Prometheus',
    command: options.binary ?? 'prometheus',
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(runDir, 'data')}`,
      '--storage.tsdb.retention.time=1d',
      `--web.listen-address=127.0.0.1:${port}`,
      // Alerts are re-sent to Alertmanager every second (default one minute).
      '--rules.alert.resend-delay=1s',
      '--log.level=info',
    ],
    logFile: join(runDir, 'prometheus.log'),
    cwd: runDir,
    readyText: 'Server is ready to receive web requests',
    timeoutMs: 60_000,
    stopSignal: 'SIGTERM',
    installHint,
    runDir,
  });
  try {
    await waitForOk(`${url}/-/ready`, 'Prometheus');
  } catch (error) {
    await server.stop();
    throw error;
  }

  const api = async <T>(path: string, params?: Record<string, string>): Promise<T> => {
    const body = await getJson<PromResponse<T>>(`${url}${path}`, params && { method: 'POST', body: new URLSearchParams(params) });
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.errorType}: ${body.error}`);
    return body.data;
  };
  const query = async (promql: string): Promise<PromSample[]> => {
    const data = await api<{ resultType: string; result: unknown }>('/api/v1/query', { query: promql });
    if (data.resultType === 'vector') return data.result as PromSample[];
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    throw new Error(`Prometheus query ${promql}: unexpected ${data.resultType} result`);
  };
  return {
    url,
    stop: () => server.stop(),
    query,
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
    targets: async () => (await api<{ activeTargets: PromTarget[] }>('/api/v1/targets')).activeTargets,
    metricNames: () => api<string[]>('/api/v1/label/__name__/values'),
  };
};
