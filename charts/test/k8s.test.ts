/**
 * The dev-cluster manifests of k8s/: strict kubeconform (core and cert-manager schemas, nothing
 * skipped), the dev values render the umbrella, and the example Alertmanager config routes every
 * Galion severity.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KUBE_VERSIONS, kubeconform, parseYaml, prepare, ROOT, run, templateArgs, tool, UMBRELLA } from './tools';

jest.setTimeout(120_000);
// A cold install of the chart tools (Go builds, schemas, promtool) takes several minutes.
beforeAll(() => prepare(), 1_800_000);

const K8S = join(ROOT, 'k8s');
const manifests = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && !f.endsWith('-values.yaml') && f !== 'alertmanager-config.yaml');

test('the folder has the dependencies a dev cluster needs', () => {
  expect(manifests).toEqual(
    expect.arrayContaining(['namespaces.yaml', 'postgres.yaml', 'redis.yaml', 'kafka.yaml', 'jaeger.yaml', 'cert-manager-issuers.yaml']),
  );
});

test.each(manifests)('%s is valid for both Kubernetes versions (kubeconform -strict, nothing skipped)', (file) => {
  for (const kubeVersion of KUBE_VERSIONS) {
    const r = kubeconform(kubeVersion, join(K8S, file));
    const report = JSON.parse(r.stdout);
    expect((report.resources ?? []).filter((x: { status: string }) => x.status !== 'statusValid')).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.summary.valid).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  }
});

test('no password is written in the manifests', () => {
  for (const file of readdirSync(K8S)) expect(readFileSync(join(K8S, file), 'utf8')).not.toMatch(/password:\s*["']?[A-Za-z0-9]{6,}/i);
});

test('galion-dev-values.yaml renders the platform against the dev dependencies', () => {
  const r = run(tool('helm'), [...templateArgs(KUBE_VERSIONS[1]), '-f', join(K8S, 'galion-dev-values.yaml')]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const config = parseYaml(r.stdout).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'galion-auth');
  expect(config.data.DATABASE_URL).toBe('postgres://galion_auth@postgres.galion-deps:5432/auth');
  expect(config.data.KAFKA_BROKERS).toBe('kafka.galion-deps:9092');
  expect(config.data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger-collector.observability:4318');
  expect(UMBRELLA).toContain('galion');
});

test('the example Alertmanager config pages on critical Galion alerts and inhibits on target down', () => {
  const config = parseYaml(readFileSync(join(K8S, 'alertmanager-config.yaml'), 'utf8'))[0];
  const receivers = new Set(config.receivers.map((r: { name: string }) => r.name));
  for (const route of config.route.routes) expect(receivers.has(route.receiver)).toBe(true);
  expect(config.route.routes[0].matchers).toContain('severity="critical"');
  expect(config.inhibit_rules[0].source_matchers).toContain('alertname="GalionTargetDown"');
});
