import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a service needs besides other services; the launcher and the cluster install provide these.
 * `s3` is an S3-compatible object store (a bucket of its own).
 */
export const DEPENDENCIES = ['postgres', 'redis', 'kafka', 'smtp', 's3'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** One service of services.json (docs/architecture.md, "The services manifest"). */
export interface ServiceEntry {
  /** Also its package (@galion/<name>), image (galion/<name>), Prometheus job and Kubernetes component. */
  name: string;
  summary: string;
  /** Its folder, from the repository root. */
  dir: string;
  /** Its chart's folder, from the repository root. */
  chart: string;
  /** Where it serves its API, in public (through the gateway) and behind the gateway alike; none for the gateway. */
  prefix: string | undefined;
  /** The default of its PORT setting. */
  port: number;
  /** `postgres` means a database of its own, with migrations (src/migrate.ts, the chart's migration Job). */
  dependencies: readonly Dependency[];
  /** The services it calls over HTTP. The gateway's are every service with a prefix, so it lists none. */
  calls: readonly string[];
  /** Publishes its events through a transactional outbox. */
  outbox: boolean;
}

/** A service behind the gateway. */
export type RoutedService = ServiceEntry & { prefix: string };

/** src/ or dist/ of packages/manifest. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const MANIFEST_FILE = path.join(REPO_ROOT, 'services.json');
/** The public entry point: it starts last, on the public port, and routes to every service with a prefix. */
export const GATEWAY = 'gateway';

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const NAME = /^[a-z][a-z0-9-]*$/;
const PREFIX = /^\/api\/v1\/[a-z0-9-]+$/;
const FIELDS = new Set(['name', 'summary', 'dir', 'chart', 'prefix', 'port', 'dependencies', 'calls', 'outbox']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
const relativePath = (value: unknown): value is string => typeof value === 'string' && value !== '' && !path.isAbsolute(value);

/** One entry checked on its own; `at` names it in errors. */
const readEntry = (raw: unknown, at: string): ServiceEntry => {
  const fail = (message: string): never => {
    throw new ManifestError(`services.json: ${at}: ${message}`);
  };
  if (!isObject(raw)) return fail('must be an object');
  for (const field of Object.keys(raw)) if (!FIELDS.has(field)) fail(`unknown field "${field}"`);
  const { name, summary, dir, chart, prefix, port, dependencies, calls = [], outbox = false } = raw;
  if (typeof name !== 'string' || !NAME.test(name)) fail('name must be lower-case letters, digits and dashes, starting with a letter');
  if (typeof summary !== 'string' || summary === '') fail('summary must be a sentence');
  if (!relativePath(dir)) fail('dir must be a folder relative to the repository root');
  if (!relativePath(chart)) fail('chart must be a folder relative to the repository root');
  if (prefix !== undefined && (typeof prefix !== 'string' || !PREFIX.test(prefix))) fail('prefix must look like /api/v1/<segment>');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) fail('port must be a whole number from 1 to 65535');
  if (!isStrings(dependencies) || dependencies.some((d) => !(DEPENDENCIES as readonly string[]).includes(d)))
    fail(`dependencies must be some of ${DEPENDENCIES.join(', ')}`);
  if (new Set(dependencies as string[]).size !== (dependencies as string[]).length) fail('dependencies are listed twice');
  if (!isStrings(calls)) fail('calls must be a list of service names');
  if (typeof outbox !== 'boolean') fail('outbox must be true or false');
  return {
    name: name as string,
    summary: summary as string,
    dir: dir as string,
    chart: chart as string,
    prefix: prefix as string | undefined,
    port: port as number,
    dependencies: dependencies as Dependency[],
    calls: calls as string[],
    outbox: outbox as boolean,
  };
};

/** The services of one manifest, checked as a whole: names, prefixes and ports unique, calls resolvable and acyclic. */
export class ServicesManifest {
  readonly services: readonly ServiceEntry[];
  readonly names: readonly string[];

  constructor(services: readonly ServiceEntry[]) {
    const fail = (message: string): never => {
      throw new ManifestError(`services.json: ${message}`);
    };
    if (services.length === 0) fail('lists no service');
    const byName = new Map(services.map((service) => [service.name, service]));
    if (byName.size !== services.length) fail('a name is used twice');
    const prefixes = services.flatMap((service) => (service.prefix ? [service.prefix] : []));
    if (new Set(prefixes).size !== prefixes.length) fail('a prefix is used twice');
    // Defaults that collide would have two services refuse to start side by side.
    if (new Set(services.map((service) => service.port)).size !== services.length) fail('a port is used twice');
    const gateway = byName.get(GATEWAY);
    if (!gateway) fail(`no "${GATEWAY}" service: the platform needs its public entry point`);
    if (gateway?.prefix || gateway?.calls.length) fail(`${GATEWAY}: has no prefix and lists no calls (it routes to every prefix)`);
    for (const service of services) {
      for (const callee of service.calls) {
        const target = byName.get(callee);
        if (!target) fail(`${service.name}: calls "${callee}", which is not a service here`);
        if (!target?.prefix || callee === service.name) fail(`${service.name}: calls "${callee}", which serves no API to it`);
      }
      // The outbox is a table of the service's database, relayed to Kafka.
      if (service.outbox && !(service.dependencies.includes('postgres') && service.dependencies.includes('kafka')))
        fail(`${service.name}: an outbox needs postgres and kafka among its dependencies`);
    }
    this.services = services;
    this.names = services.map((service) => service.name);
    this.startStages();
  }

  /** The service of this name; throws for a name the manifest does not have. */
  get(name: string): ServiceEntry {
    const service = this.services.find((candidate) => candidate.name === name);
    if (!service) throw new ManifestError(`services.json has no service "${name}" (it has ${this.names.join(', ')})`);
    return service;
  }

  /** The services behind the gateway: each with a prefix, in manifest order. */
  routed(): RoutedService[] {
    return this.services.filter((service): service is RoutedService => service.prefix !== undefined);
  }

  /** The services with a database of their own. */
  withDatabase(): ServiceEntry[] {
    return this.services.filter((service) => service.dependencies.includes('postgres'));
  }

  /** The services `name` calls over HTTP; the gateway's are all the services behind it. */
  callsOf(name: string): string[] {
    return name === GATEWAY ? this.routed().map((service) => service.name) : [...this.get(name).calls];
  }

  /**
   * The services in the order they can start: each stage after every service its members call (a
   * service fetches auth's JWKS as it starts; the gateway comes last). Members of a stage can start at once.
   */
  startStages(): ServiceEntry[][] {
    const stage = new Map<string, number>();
    const visit = (name: string, chain: string[]): number => {
      if (chain.includes(name))
        throw new ManifestError(`services.json: calls go round in a circle: ${[...chain.slice(chain.indexOf(name)), name].join(' → ')}`);
      const known = stage.get(name);
      if (known !== undefined) return known;
      const own = Math.max(-1, ...this.callsOf(name).map((callee) => visit(callee, [...chain, name]))) + 1;
      stage.set(name, own);
      return own;
    };
    for (const name of this.names) visit(name, []);
    const stages: ServiceEntry[][] = [];
    for (const service of this.services) (stages[stage.get(service.name) ?? 0] ??= []).push(service);
    return stages;
  }
}

/** A manifest from its JSON text. */
export const parseManifest = (text: string): ServicesManifest => {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`services.json is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document) || !Array.isArray(document.services)) throw new ManifestError('services.json: needs a "services" list');
  return new ServicesManifest(document.services.map((entry, index) => readEntry(entry, `services[${index}]`)));
};

export const readManifest = (file: string = MANIFEST_FILE): ServicesManifest => parseManifest(readFileSync(file, 'utf8'));

/** The repository's services.json, read once. */
export const manifest: ServicesManifest = readManifest();

/** The start of a service's setting names: AUTH for auth (AUTH_URL, AUTH_SMTP_HOST, ...). */
export const envPrefix = (name: string): string => name.toUpperCase().replace(/-/g, '_');

/** The built entry point of a service, as its image runs it. */
export const serviceMain = (service: ServiceEntry): string => path.join(REPO_ROOT, service.dir, 'dist', 'main.js');
