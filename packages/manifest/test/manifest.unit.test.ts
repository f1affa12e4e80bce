import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY, ManifestError, manifest, parseManifest, REPO_ROOT, serviceMain } from '@galion/manifest';

/** A manifest text of these entries, each completed with valid fields. */
const manifestOf = (...entries: Record<string, unknown>[]): string =>
  JSON.stringify({
    services: entries.map((entry, index) => ({
      summary: 'a service',
      dir: `services/${String(entry.name)}`,
      chart: `charts/${String(entry.name)}`,
      port: 9000 + index,
      dependencies: [],
      ...entry,
    })),
  });
const gateway = { name: 'gateway' };
const issuer = { name: 'auth', prefix: '/api/v1/auth' };

/** What reading the text throws, or undefined when it is accepted. */
const refusalOf = (text: string): string | undefined => {
  try {
    parseManifest(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as Error).message;
  }
  return undefined;
};

describe('reading services.json', () => {
  it('when a manifest is valid, then it is read with the defaults: no calls, no outbox', () => {
    const read = parseManifest(manifestOf(gateway, issuer));

    expect(read.names).toEqual(['gateway', 'auth']);
    expect(read.get('auth')).toMatchObject({ prefix: '/api/v1/auth', calls: [], outbox: false, dependencies: [] });
    expect(read.get('gateway').prefix).toBeUndefined();
  });

  it.each([
    ['a name is used twice', [gateway, issuer, { ...issuer, prefix: '/api/v1/other' }], /name is used twice/],
    ['a prefix is used twice', [gateway, issuer, { name: 'users', prefix: '/api/v1/auth' }], /prefix is used twice/],
    ['there is no gateway', [issuer], /no "gateway" service/],
    ['the gateway has a prefix', [{ ...gateway, prefix: '/api/v1/gateway' }], /gateway: has no prefix/],
    [
      'a service calls one that is not there',
      [gateway, { ...issuer, calls: ['billing'] }],
      /auth: calls "billing", which is not a service/,
    ],
    [
      'a service calls one without an API',
      [gateway, { name: 'worker' }, { ...issuer, calls: ['worker'] }],
      /calls "worker", which serves no API/,
    ],
    [
      'calls go round in a circle',
      [gateway, { ...issuer, calls: ['users'] }, { name: 'users', prefix: '/api/v1/users', calls: ['auth'] }],
      /circle: auth → users → auth/,
    ],
    ['an outbox has no Kafka', [gateway, { ...issuer, dependencies: ['postgres'], outbox: true }], /outbox needs postgres and kafka/],
    [
      'a dependency is unknown',
      [gateway, { ...issuer, dependencies: ['mysql'] }],
      /dependencies must be some of postgres, redis, kafka, smtp, s3/,
    ],
    ['a field is misspelt', [gateway, { ...issuer, prefx: '/api/v1/auth' }], /unknown field "prefx"/],
    ['a prefix is not under /api/v1', [gateway, { ...issuer, prefix: '/auth' }], /prefix must look like/],
    ['a name has capitals', [gateway, { name: 'Auth' }], /name must be lower-case/],
  ])('when %s, then reading fails and says so', (_case, entries, message) => {
    expect(refusalOf(manifestOf(...(entries as Record<string, unknown>[])))).toMatch(message);
  });

  it('when two services have the same default port, then reading fails', () => {
    expect(refusalOf(manifestOf(gateway, { ...issuer, port: 9000 }))).toMatch(/port is used twice/);
  });

  it('when the text is not JSON or has no services list, then reading fails', () => {
    expect(refusalOf('{"services": [')).toMatch(/not valid JSON/);
    expect(refusalOf('{"service": []}')).toMatch(/needs a "services" list/);
  });

  it('when services call others, then each starts in a stage after those it calls, and the gateway after every service it routes to', () => {
    const read = parseManifest(
      manifestOf(
        gateway,
        issuer,
        { name: 'users', prefix: '/api/v1/users', calls: ['auth'] },
        { name: 'feed', prefix: '/api/v1/feed', calls: ['users'] },
      ),
    );

    expect(read.callsOf(GATEWAY)).toEqual(['auth', 'users', 'feed']);
    expect(read.startStages().map((stage) => stage.map((service) => service.name))).toEqual([['auth'], ['users'], ['feed'], ['gateway']]);
  });
});

describe("the repository's services.json", () => {
  it('when it is read, then it names the gateway, auth, users, analytics, posts, feed and media, and starts auth first and the gateway last', () => {
    expect(manifest.names).toEqual(['gateway', 'auth', 'users', 'analytics', 'posts', 'feed', 'media']);
    expect(manifest.startStages().map((stage) => stage.map((service) => service.name))).toEqual([
      ['auth'],
      ['users', 'analytics', 'posts', 'feed', 'media'],
      ['gateway'],
    ]);
  });

  describe.each(manifest.services.map((service) => [service.name, service] as const))('%s', (name, service) => {
    const dir = path.join(REPO_ROOT, service.dir);

    it('when its folder is looked at, then it is the workspace package @galion/<name> with an entry point', () => {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect(pkg.name).toBe(`@galion/${name}`);
      expect(existsSync(path.join(dir, 'src', 'main.ts'))).toBe(true);
      expect(path.relative(REPO_ROOT, serviceMain(service))).toBe(path.join(service.dir, 'dist', 'main.js'));
    });

    it('when it has postgres among its dependencies, then it has migrations, and otherwise none', () => {
      expect({ name, migrations: existsSync(path.join(dir, 'src', 'migrate.ts')) }).toEqual({
        name,
        migrations: service.dependencies.includes('postgres'),
      });
    });

    it('when its configuration is read without PORT, then the port is the one services.json says', async () => {
      const config = (await import(path.join(dir, 'src', 'config.ts'))) as Record<string, unknown>;
      const schema = config[`${name.replace(/-([a-z0-9])/g, (_: string, c: string) => c.toUpperCase())}EnvSchema`] as {
        shape: { PORT: { parse(value: unknown): unknown } };
      };
      expect(schema.shape.PORT.parse(undefined)).toBe(service.port);
    });

    it('when the workspace is built (tsc -b), then the service is built too', () => {
      const references = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.json'), 'utf8')).references.map(
        (r: { path: string }) => r.path,
      );
      expect(references).toContain(service.dir);
    });
  });
});
