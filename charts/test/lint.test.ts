/**
 * helm-unittest suites of every chart (security context, probes, HPA, PDB, NetworkPolicy rules,
 * Ingress TLS, kube-prometheus-stack labels, existingSecret, values refused by the schema), the
 * security linter (kube-score) on the production profile, and generated files being up to date.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARTS, KUBE_VERSIONS, ROOT, SERVICES, parseYaml, prepare, render, run, tool } from './tools';

jest.setTimeout(300_000);
// A cold install of the chart tools (Go builds, schemas, promtool) takes several minutes.
beforeAll(() => prepare(), 1_800_000);

describe('helm-unittest', () => {
  test.each([...SERVICES, 'galion'])('suites of the %s chart pass', (chart) => {
    const r = run(tool('helm-unittest'), ['--color=false', join(CHARTS, chart)]);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toMatch(/Charts:\s+1 passed/);
    expect(out).not.toMatch(/FAIL/);
    expect(r.status).toBe(0);
  });

  test('every service chart with its own behaviour has suites', () => {
    for (const chart of ['auth', 'gateway', 'media', 'galion']) {
      const r = run(tool('helm-unittest'), ['--color=false', join(CHARTS, chart)]);
      const tests = Number(/Tests:\s+(\d+) passed/.exec(r.stdout)?.[1] ?? 0);
      expect({ chart, tests }).toEqual({ chart, tests: expect.any(Number) });
      expect(tests).toBeGreaterThanOrEqual(4);
    }
  });
});

describe('kube-score', () => {
  const config = parseYaml(readFileSync(join(CHARTS, 'kube-score.yaml'), 'utf8'))[0] as {
    kubernetesVersion: string;
    enableOptional: string[];
    ignore: { test: string; reason: string }[];
  };

  test('every exclusion is explained', () => {
    for (const entry of config.ignore) {
      expect(entry.test).toMatch(/^[a-z-]+$/);
      expect(entry.reason.length).toBeGreaterThan(40);
    }
  });

  const score = (yaml: string) =>
    run(
      tool('kube-score'),
      [
        'score',
        '--kubernetes-version',
        config.kubernetesVersion,
        '--output-format',
        'ci',
        '--exit-one-on-warning',
        ...config.enableOptional.flatMap((t) => ['--enable-optional-test', t]),
        ...config.ignore.flatMap((t) => ['--ignore-test', t.test]),
        '-',
      ],
      { input: yaml },
    );

  test('the production profile has no finding', () => {
    const r = score(render('production', KUBE_VERSIONS[1]));
    const findings = r.stdout.split('\n').filter((line) => /^\[(WARNING|CRITICAL)\]/.test(line));
    expect(findings).toEqual([]);
    expect(r.status).toBe(0);
  });

  test('it would catch a root container with a writable filesystem', () => {
    const yaml = render('production', KUBE_VERSIONS[1], ['--set', 'gateway.securityContext.readOnlyRootFilesystem=false']);
    const r = score(yaml);
    expect(r.stdout).toMatch(
      /\[CRITICAL\] galion-gateway\/galion apps\/v1\/Deployment: \(gateway\) The pod has a container with a writable root filesystem/,
    );
    expect(r.status).not.toBe(0);
  });
});

describe('generated files', () => {
  test('values.schema.json files match scripts/charts/gen-schemas.mjs', () => {
    const r = run(process.execPath, [join(ROOT, 'scripts/charts/gen-schemas.mjs'), '--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
