/**
 * The charts, offline and strict: `helm lint --strict` of every chart and values profile,
 * `helm template` for two Kubernetes minors with the CRD API versions, and `kubeconform -strict`
 * of everything rendered against local Kubernetes and CRD schemas, where nothing may be skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessTokenTtlEnv } from '@galion/tokens';
import {
  CHARTS,
  KUBE_VERSIONS,
  kubeconform,
  mustRun,
  parseYaml,
  prepare,
  profileFile,
  PROFILES,
  render,
  renderObjects,
  ROOT,
  run,
  SERVICES,
  templateArgs,
  tool,
  UMBRELLA,
} from './tools';

jest.setTimeout(300_000);

const kubeconformYaml = (yaml: string, kubeVersion: string) => kubeconform(kubeVersion, '-', yaml);

// A cold install of the chart tools (Go builds, schemas, promtool) takes several minutes.
beforeAll(() => prepare(), 1_800_000);

test('there are the three profiles the deployers were promised', () => {
  expect(PROFILES).toEqual(expect.arrayContaining(['minimal', 'production', 'everything-off']));
});

describe('helm lint --strict', () => {
  test.each(['galion-lib', ...SERVICES])('chart %s', (chart) => {
    const r = run(tool('helm'), ['lint', '--strict', '--kube-version', KUBE_VERSIONS[1], join(CHARTS, chart)]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  test.each(PROFILES)('umbrella with the %s profile', (profile) => {
    for (const kubeVersion of KUBE_VERSIONS) {
      const r = run(tool('helm'), ['lint', '--strict', '--kube-version', kubeVersion, UMBRELLA, '-f', profileFile(profile)]);
      expect({ kubeVersion, out: `${r.stdout}${r.stderr}`, status: r.status }).toMatchObject({ status: 0 });
      expect(r.stdout).not.toMatch(/\[WARNING\]|\[ERROR\]/);
    }
  });
});

describe('helm template | kubeconform -strict', () => {
  const cases = PROFILES.flatMap((profile) => KUBE_VERSIONS.map((kubeVersion) => [profile, kubeVersion] as const));
  test.each(cases)('%s profile on Kubernetes %s', (profile, kubeVersion) => {
    const yaml = render(profile, kubeVersion);
    const r = kubeconformYaml(yaml, kubeVersion);
    const report = JSON.parse(r.stdout) as {
      resources?: { kind: string; name: string; status: string; msg: string }[];
      summary: Record<string, number>;
    };
    const bad = (report.resources ?? []).filter((res) => res.status !== 'statusValid');
    expect(bad).toEqual([]);
    expect(report.summary.skipped).toBe(0);
    expect(report.summary.errors).toBe(0);
    expect(report.summary.invalid).toBe(0);
    expect(report.summary.valid).toBe(parseYaml(yaml).length);
    expect(r.status).toBe(0);
  });

  test.each(SERVICES)('the %s chart alone renders and validates', (service) => {
    const yaml = mustRun(tool('helm'), [
      'template',
      service,
      join(CHARTS, service),
      '--namespace',
      'galion',
      '--kube-version',
      KUBE_VERSIONS[1],
    ]);
    const r = kubeconformYaml(yaml, KUBE_VERSIONS[1]);
    expect(r.stdout).toMatch(/"invalid": 0/);
    expect(r.stdout).toMatch(/"errors": 0/);
    expect(r.stdout).toMatch(/"skipped": 0/);
    expect(r.status).toBe(0);
  });

  test('kubeconform really rejects an unknown field (the schemas are strict and loaded)', () => {
    const yaml = render('minimal').replace('revisionHistoryLimit:', 'revisionHistoryLimmit:');
    const r = kubeconformYaml(yaml, KUBE_VERSIONS[0]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/revisionHistoryLimmit/);
  });

  test('kubeconform rejects a bad field inside a CRD object (ServiceMonitor)', () => {
    const yaml = render('production').replace('jobLabel:', 'jobLabell:');
    const r = kubeconformYaml(yaml, KUBE_VERSIONS[0]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/jobLabell/);
  });

  test('monitoring objects refuse to render on a cluster without the prometheus-operator CRDs', () => {
    const args = templateArgs(KUBE_VERSIONS[0]).filter(
      (a, i, all) =>
        !(a.startsWith('monitoring.coreos.com') || (a === '--api-versions' && all[i + 1]?.startsWith('monitoring.coreos.com'))),
    );
    const r = run(tool('helm'), [...args, '-f', profileFile('production')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/needs the prometheus-operator CRDs/);
  });
});

describe('values files', () => {
  test.each(['galion-lib', ...SERVICES, 'galion'])('chart %s has a values.schema.json', (chart) => {
    const file = join(CHARTS, chart, 'values.schema.json');
    expect(existsSync(file)).toBe(true);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    expect(schema.type).toBe('object');
  });

  test.each(['galion-lib', ...SERVICES, 'galion'])('no secret has a default value in %s/values.yaml', (chart) => {
    const objects = parseYaml(readFileSync(join(CHARTS, chart, 'values.yaml'), 'utf8'))[0];
    const found: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
      } else if (/(password|keys)$/i.test(path) && !/Key$/.test(path) && node) {
        found.push(`${path}=${String(node)}`);
      }
    };
    walk(objects, '');
    expect(found).toEqual([]);
  });

  test("when the umbrella sets global, then it sets galion-lib's own global defaults, so a chart installed alone defaults alike", () => {
    const umbrella = parseYaml(readFileSync(join(UMBRELLA, 'values.yaml'), 'utf8'))[0].global;
    const lib = parseYaml(readFileSync(join(CHARTS, 'galion-lib', 'values.yaml'), 'utf8'))[0].exports['service-defaults'].global;
    expect(umbrella).toEqual(lib);
  });
});

describe("the gateway's Ingress and its route table", () => {
  /** A body limit of the route table (`bytes` units: 1mb, 1280kb, 10502144b), in bytes. */
  const tableBytes = (limit: string): number => {
    const [, n = '', unit = ''] = /^(\d+)(b|kb|mb)$/.exec(limit) ?? [];
    return Number(n) * { b: 1, kb: 1024, mb: 1024 ** 2 }[unit as 'b' | 'kb' | 'mb'];
  };
  /** An nginx size (11m, 512k), in bytes. */
  const nginxBytes = (size: string): number => {
    const [, n = '', unit = ''] = /^(\d+)([km]?)$/.exec(size) ?? [];
    return Number(n) * { '': 1, k: 1024, m: 1024 ** 2 }[unit as '' | 'k' | 'm'];
  };

  test('when the gateway admits a body on some route, then the default ingress-nginx Ingress admits one as large', () => {
    const routes = JSON.parse(readFileSync(join(ROOT, 'services/gateway/src/gateway-routes.json'), 'utf8')) as {
      path: string;
      bodyLimit?: string;
    }[];
    const largest = Math.max(...routes.flatMap((route) => (route.bodyLimit ? [tableBytes(route.bodyLimit)] : [])));
    // The image upload, 10 MiB and its multipart framing, far above the posts' 1,280 kB.
    expect(largest).toBeGreaterThan(10 * 1024 ** 2);
    const ingress = renderObjects('production').find((o) => o.kind === 'Ingress');
    const admitted = nginxBytes(ingress?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '');
    expect({ admitted: admitted >= largest, admittedBytes: admitted, largest }).toEqual({
      admitted: true,
      admittedBytes: admitted,
      largest,
    });
  });
});

describe('values shared through global', () => {
  const configOf = (objects: ReturnType<typeof renderObjects>, service: string) =>
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `galion-${service}`)?.data ?? {};

  test("when global.accessTokenTtlSeconds is left alone, then auth signs and users revokes for the services' own default", () => {
    const objects = renderObjects('minimal');
    const ttl = String(accessTokenTtlEnv.parse(undefined));
    expect(configOf(objects, 'auth').AUTH_ACCESS_TOKEN_TTL_SECONDS).toBe(ttl);
    expect(configOf(objects, 'users').ACCESS_TOKEN_TTL_SECONDS).toBe(ttl);
  });

  test('when global.accessTokenTtlSeconds is set, then auth and users both get it', () => {
    const objects = renderObjects('minimal', undefined, ['--set', 'global.accessTokenTtlSeconds=600']);
    expect(configOf(objects, 'auth').AUTH_ACCESS_TOKEN_TTL_SECONDS).toBe('600');
    expect(configOf(objects, 'users').ACCESS_TOKEN_TTL_SECONDS).toBe('600');
  });
});
