/**
 * The container image, checked without a Docker engine: hadolint on the Dockerfile, every file it
 * COPYs from the build context exists and is not excluded by .dockerignore, and the image keeps
 * the contract the charts rely on (Node 24 pinned, non-root uid 10001, node dist/main.js, ports).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '@galion/manifest';
import { CHARTS, ROOT, SERVICES, prepare, run, tool } from './tools';

jest.setTimeout(120_000);
// A cold install of the chart tools (Go builds, schemas, promtool) takes several minutes.
beforeAll(() => prepare(), 1_800_000);

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** A .dockerignore pattern as a RegExp over context-relative paths (enough for the patterns used here). */
const toRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\u0000')
      .replace(/\*/g, '[^/]*')
      .replace(/\u0000/g, '(.*/)?')}(/.*)?$`,
  );
const ignored = (path: string) => ignore.some((p) => !p.startsWith('!') && toRegExp(p).test(path));

test('hadolint finds nothing', () => {
  const r = run(tool('hadolint'), ['--no-color', join(ROOT, 'Dockerfile')]);
  expect(r.stdout).toBe('');
  expect(r.status).toBe(0);
});

test('hadolint would flag a bad Dockerfile (the linter runs)', () => {
  const r = run(tool('hadolint'), ['--no-color', '-'], { input: 'FROM node:latest\nRUN apt-get install curl\n' });
  expect(r.status).not.toBe(0);
  expect(r.stdout).toMatch(/DL3007|DL3008|DL3009|DL3015/);
});

test('every file the Dockerfile copies from the context exists and is not dockerignored', () => {
  const copies = [...dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/gm)].map((m) => m[1].trim().split(/\s+/).slice(0, -1));
  expect(copies.length).toBeGreaterThan(0);
  for (const sources of copies)
    for (const source of sources) {
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored(source) }).toEqual({ source, ignored: false });
    }
  // What the build needs from those folders is in the context too.
  for (const needed of ['services/auth/package.json', 'packages/kit/package.json', 'packages/kit/src/index.ts'])
    expect({ needed, ignored: ignored(needed) }).toEqual({ needed, ignored: false });
  for (const dropped of ['node_modules/x', 'services/auth/node_modules/x', 'services/auth/dist/main.js', 'charts/galion/Chart.yaml'])
    expect({ dropped, ignored: ignored(dropped) }).toEqual({ dropped, ignored: true });
});

test('keeps the image contract the charts rely on', () => {
  expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
  expect(dockerfile).toMatch(/pnpm@10\.34\.9/);
  expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
  expect(dockerfile).toMatch(/pnpm exec tsc -b/);
  expect(dockerfile).toMatch(/pnpm deploy .*--filter "@galion\/\$\{SERVICE\}" --prod \/out/);
  // The deployed service is loaded in the build: a runtime module (sharp's native binary) left out fails it.
  expect(dockerfile).toMatch(/node -e 'require\("\/out\/dist\/service\.js"\)'/);
  expect(dockerfile).toMatch(/^USER 10001:10001$/m);
  expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  expect(dockerfile).toMatch(/^EXPOSE 8080 9464$/m);
  const values = readFileSync(join(CHARTS, 'galion-lib/values.yaml'), 'utf8');
  expect(values).toMatch(/runAsUser: 10001/);
});

test('each service the charts deploy is a workspace package the image can be built for', () => {
  for (const service of SERVICES) {
    const chart = readFileSync(join(CHARTS, service, 'values.yaml'), 'utf8');
    expect(chart).toContain(`repository: galion/${service}`);
  }
  // Services written so far keep the entry points the image and the migration Job run
  // (a service still being written, without its main.ts yet, is left alone).
  for (const service of SERVICES) {
    const dir = join(ROOT, manifest.get(service).dir);
    if (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'src/main.ts'))) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe(`@galion/${service}`);
    if (pkg.scripts?.start) expect(pkg.scripts.start).toBe('node dist/main.js');
    if (manifest.get(service).dependencies.includes('postgres'))
      expect({ service, migrate: existsSync(join(dir, 'src/migrate.ts')) }).toEqual({ service, migrate: true });
  }
});
