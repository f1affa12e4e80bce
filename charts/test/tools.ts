/**
 * Shared helpers of the chart validation tests: where the tools are, how to render the charts,
 * and the matrix of values profiles and Kubernetes versions every check runs over.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { manifest } from '@galion/manifest';

export const ROOT = resolve(__dirname, '../..');
export const CHARTS = join(ROOT, 'charts');
export const UMBRELLA = join(CHARTS, 'galion');
/** The services of services.json, each with a chart of its name. */
export const SERVICES: readonly string[] = manifest.names;
export type Service = string;

export const CACHE = join(process.env.GALION_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/galion'), 'chart-tools');
export const BIN = join(CACHE, 'bin');
export const tool = (name: string): string => join(BIN, name);

/** Two supported minors, oldest and newest (schemas for both are installed by install-chart-tools.sh). */
export const KUBE_VERSIONS = ['1.33.0', '1.37.0'];
/** The CRD APIs a cluster with kube-prometheus-stack and the Gateway API has. */
export const API_VERSIONS = [
  'monitoring.coreos.com/v1',
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
  'gateway.networking.k8s.io/v1',
  'gateway.networking.k8s.io/v1/HTTPRoute',
];
export const PROFILES = readdirSync(join(UMBRELLA, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .map((f) => f.replace(/-values\.yaml$/, ''))
  .sort();

export const RELEASE = 'galion';
export const NAMESPACE = 'galion';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export const run = (cmd: string, args: string[], options: { input?: string; cwd?: string } = {}): RunResult => {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(CACHE, 'helm-cache'),
      HELM_CONFIG_HOME: join(CACHE, 'helm-config'),
      HELM_DATA_HOME: join(CACHE, 'helm-data'),
    },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

/** Runs a command that must succeed; its output on failure makes the assertion message. */
export const mustRun = (cmd: string, args: string[], options: { input?: string; cwd?: string } = {}): string => {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/** Tools and chart dependencies, once per test file (fast when already there). */
export const prepare = (): void => {
  execFileSync('bash', [join(ROOT, 'scripts/charts/prepare.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
};

export const profileFile = (profile: string): string => join(UMBRELLA, 'ci', `${profile}-values.yaml`);

export const templateArgs = (kubeVersion: string, extra: string[] = []): string[] => [
  'template',
  RELEASE,
  UMBRELLA,
  '--namespace',
  NAMESPACE,
  '--kube-version',
  kubeVersion,
  ...API_VERSIONS.flatMap((v) => ['--api-versions', v]),
  ...extra,
];

/** The umbrella rendered with a profile, as YAML. */
export const render = (profile: string, kubeVersion = KUBE_VERSIONS[0], extra: string[] = []): string =>
  mustRun(tool('helm'), templateArgs(kubeVersion, ['-f', profileFile(profile), ...extra]));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

export const parseYaml = (yaml: string): any[] => JSON.parse(mustRun(tool('charttools'), ['yaml2json'], { input: yaml }));

export const renderObjects = (profile: string, kubeVersion = KUBE_VERSIONS[0], extra: string[] = []): K8sObject[] =>
  parseYaml(render(profile, kubeVersion, extra));

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `galion-${prefix}-`));

/**
 * kubeconform -strict against the local Kubernetes and CRD schemas, on a file or (with `-`) on
 * `input`; JSON report on stdout.
 */
export const kubeconform = (kubeVersion: string, target: string, input?: string): RunResult =>
  run(
    tool('kubeconform'),
    [
      '-strict',
      '-summary',
      '-output',
      'json',
      '-kubernetes-version',
      kubeVersion,
      '-schema-location',
      join(CACHE, 'schemas/kubernetes/{{ .NormalizedKubernetesVersion }}-local-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json'),
      '-schema-location',
      join(CACHE, 'schemas/crd/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'),
      target,
    ],
    input === undefined ? {} : { input },
  );
