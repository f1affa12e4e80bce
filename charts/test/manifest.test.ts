/**
 * The charts and the deploy files that cannot read services.json agree with it: a service added to
 * the manifest without its chart, its place in the umbrella, the gateway's route to it or its
 * NetworkPolicy paths fails here, naming what is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envPrefix, GATEWAY, manifest, type Dependency } from '@galion/manifest';
import { CHARTS, ROOT, SERVICES, UMBRELLA, parseYaml, prepare, run } from './tools';

jest.setTimeout(60_000);
// parseYaml needs the chart tools.
beforeAll(() => prepare(), 1_800_000);

type Values = Record<string, any>;
const yamlFile = (file: string): Values => parseYaml(readFileSync(file, 'utf8'))[0] as Values;
const libraryDefaults = yamlFile(join(CHARTS, 'galion-lib', 'values.yaml')).exports['service-defaults'] as Values;
/** A chart's value at `key` (postgres.enabled), or the library's default. */
const valueOf = (values: Values, key: string): unknown =>
  key.split('.').reduce<any>((at, part) => at?.[part], values) ?? key.split('.').reduce<any>((at, part) => at?.[part], libraryDefaults);

describe.each(SERVICES)('the %s chart', (name) => {
  const service = manifest.get(name);
  const chart = yamlFile(join(ROOT, service.chart, 'Chart.yaml'));
  const values = yamlFile(join(ROOT, service.chart, 'values.yaml'));

  test('when services.json names its chart, then the chart has the service name and deploys its image', () => {
    expect({ folder: service.chart, name: chart.name }).toEqual({ folder: `charts/${name}`, name });
    expect(values.image.repository).toBe(`galion/${name}`);
  });

  test('when the service has dependencies, then the chart connects exactly those (and runs migrations with a database)', () => {
    const uses = (dependency: Dependency) => service.dependencies.includes(dependency);
    expect({
      postgres: valueOf(values, 'postgres.enabled'),
      migrations: valueOf(values, 'migrations.enabled'),
      redis: valueOf(values, 'redis.enabled'),
      kafka: valueOf(values, 'kafka.enabled'),
      s3: valueOf(values, 's3.enabled'),
    }).toEqual({ postgres: uses('postgres'), migrations: uses('postgres'), redis: uses('redis'), kafka: uses('kafka'), s3: uses('s3') });
  });

  test('when the service keeps objects in S3, then its chart has the object-store alerts (and only then)', () => {
    const ruleSets = valueOf(values, 'metrics.ruleSets') as string[];
    expect({ objectStore: ruleSets.includes('objectStore') }).toEqual({ objectStore: service.dependencies.includes('s3') });
  });

  test('when the service calls others and others call it, then its NetworkPolicy opens exactly those paths', () => {
    const callers = manifest.names.filter((other) => manifest.callsOf(other).includes(name));
    expect({ allowTo: [...(valueOf(values, 'networkPolicy.allowTo') as string[])].sort() }).toEqual({
      allowTo: manifest.callsOf(name).sort(),
    });
    // The gateway chart's own `helm test` pods come in too.
    const allowFrom = (valueOf(values, 'networkPolicy.allowFrom') as string[]).filter((peer) => peer !== 'gateway-test');
    expect({ allowFrom: allowFrom.sort() }).toEqual({ allowFrom: callers.sort() });
  });
});

test("when the gateway routes to a service, then the gateway chart gives it that service's in-cluster URL", () => {
  const values = yamlFile(join(ROOT, manifest.get(GATEWAY).chart, 'values.yaml'));
  for (const { name } of manifest.routed()) {
    const key = `${envPrefix(name)}_URL`;
    expect({ key, value: values.env?.[key] }).toEqual({ key, value: `{{ include "galion-lib.peerUrl" (list . "${name}") }}` });
  }
});

describe('the umbrella chart', () => {
  const chart = yamlFile(join(UMBRELLA, 'Chart.yaml'));
  const values = yamlFile(join(UMBRELLA, 'values.yaml'));

  test('when services.json lists a service, then the umbrella installs its chart, switched by <name>.enabled', () => {
    const dependencies = (chart.dependencies as { name: string; repository: string; condition?: string }[]).filter(
      (d) => d.name !== 'galion-lib',
    );
    expect(dependencies.map(({ name, repository, condition }) => ({ name, repository, condition }))).toEqual(
      manifest.services.map(({ name, chart: folder }) => ({
        name,
        repository: `file://../${folder.replace(/^charts\//, '')}`,
        condition: `${name}.enabled`,
      })),
    );
    for (const name of SERVICES) expect({ name, enabled: values[name]?.enabled }).toEqual({ name, enabled: true });
  });
});

test('when services.json lists a service, then the metrics contract names it for what every service, database and outbox exports', () => {
  const contract = JSON.parse(readFileSync(join(UMBRELLA, 'metrics-contract.json'), 'utf8')) as {
    metrics: { name: string; services: string[] }[];
  };
  // What the kit exports for every service, the database pool for each with a database, the outbox relay for each with an outbox.
  const exporters = (metric: string): string[] | undefined => {
    if (/^(galion_build_info|http_server_|process_|nodejs_)/.test(metric)) return [...manifest.names];
    if (metric.startsWith('db_pool_')) return manifest.withDatabase().map((service) => service.name);
    if (metric.startsWith('outbox_')) return manifest.services.filter((service) => service.outbox).map((service) => service.name);
    return undefined;
  };
  const shared = contract.metrics.filter((metric) => exporters(metric.name));
  expect(shared.length).toBeGreaterThan(10);
  for (const { name, services } of shared)
    expect({ name, services: [...services].sort() }).toEqual({ name, services: exporters(name)!.sort() });
});

test('skaffold.yaml is what scripts/gen-skaffold.mjs writes from services.json', () => {
  const r = run(process.execPath, [join(ROOT, 'scripts/gen-skaffold.mjs'), '--check']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
