import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureDatabaseExists } from '@galion/kit';
import {
  freePort,
  s3Available,
  startKafka,
  startMailpit,
  startPostgres,
  startRedis,
  startS3,
  stopWithThisProcess,
  type KafkaHandle,
  type MailpitHandle,
  type PostgresHandle,
  type RedisHandle,
  type S3Handle,
} from '@galion/localdeps';
import { envPrefix, GATEWAY, manifest, serviceMain } from '@galion/manifest';
import { ensureSecretFile, ensureSigningKeyFile } from './data-dir.js';
import { sharedTokenLifetime } from './settings.js';

/** Every service of services.json, in the order they start (auth first, the gateway last). */
export const SERVICE_NAMES: readonly string[] = manifest.startStages().flatMap((stage) => stage.map((service) => service.name));
/** A name of services.json. */
export type ServiceName = string;
/** The service that signs the tokens, with the key file and first admin of the data folder; the others verify against its JWKS. */
export const ISSUER = 'auth';

/** The database of a service on the local PostgreSQL (a cluster's are named by the chart values). */
export const localDatabaseName = (service: ServiceName): string => `galion_${service}`;

/** Where a service with `s3` among its dependencies keeps its objects locally: a bucket of an S3 server, or a folder. */
export type LocalObjectStore = { s3: S3Handle } | { dir: string; signingKey: string; publicUrl: string };

/**
 * The settings of a service with `s3` among its dependencies for a local object store, named after
 * it (MEDIA_STORAGE, MEDIA_S3_*, MEDIA_DISK_DIR, ...): a bucket of its own (`galion-<name>`) on the
 * S3 server, or a folder, whose signed URLs keep their key across restarts and name the public URL.
 */
export const objectStoreEnv = (name: ServiceName, store: LocalObjectStore): Record<string, string> => {
  const prefix = envPrefix(name);
  if ('s3' in store)
    return {
      [`${prefix}_STORAGE`]: 's3',
      [`${prefix}_S3_ENDPOINT`]: store.s3.endpoint,
      [`${prefix}_S3_REGION`]: store.s3.region,
      [`${prefix}_S3_ACCESS_KEY_ID`]: store.s3.accessKey,
      [`${prefix}_S3_SECRET_ACCESS_KEY`]: store.s3.secretKey,
      [`${prefix}_S3_BUCKET`]: `galion-${name}`,
    };
  return {
    [`${prefix}_STORAGE`]: 'disk',
    [`${prefix}_DISK_DIR`]: store.dir,
    [`${prefix}_URL_SIGNING_KEY`]: store.signingKey,
    [`${prefix}_PUBLIC_URL`]: store.publicUrl,
  };
};

/** The key of a service's signed URLs, kept in the data folder. */
export const urlSigningKey = (dataDir: string, name: ServiceName): Promise<string> => ensureSecretFile(dataDir, `${name}-url-signing-key`);

export interface RunningService {
  name: ServiceName;
  url: string;
  port: number;
  /** Stops the process (SIGTERM, graceful). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same settings, and waits until it is ready. */
  start(): Promise<void>;
  readonly running: boolean;
}

export interface PlatformOptions {
  dataDir: string;
  gatewayPort?: number;
  admin?: { email: string; password: string };
  /** Settings given to every service (e.g. OTEL_*, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Settings for one service only. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Give each service its own PostgreSQL server, so one can be stopped under one service. */
  postgresPerService?: boolean;
  /** Where the services' output goes: inherited (a terminal) or dropped (tests). */
  output?: 'inherit' | 'ignore';
}

export interface Platform {
  gatewayUrl: string;
  /** Every service by name, in start order. */
  services: Record<ServiceName, RunningService>;
  /** The PostgreSQL server of each service with a database (one shared by all unless postgresPerService). */
  postgres: Record<ServiceName, PostgresHandle>;
  redis: RedisHandle;
  kafka: KafkaHandle;
  /** The SMTP server auth sends its mail to, with the page and API to read it. */
  mailpit: MailpitHandle;
  /**
   * The S3 server (versitygw) of the services with `s3` among their dependencies, when
   * scripts/install-versitygw.sh has built it; without it they keep their objects on disk.
   */
  s3: S3Handle | undefined;
  /** A service by name; throws for one the platform does not run. */
  service(name: ServiceName): RunningService;
  /** The URL of a service's own database. */
  databaseUrl(name: ServiceName): string;
  stop(): Promise<void>;
}

/** A value of a record keyed by service name; throws, naming what there is, for another name. */
const byName = <T>(record: Record<ServiceName, T>, name: ServiceName, what: string): T => {
  const value = record[name];
  if (value === undefined) throw new Error(`no ${what} for ${name} (there are: ${Object.keys(record).join(', ')})`);
  return value;
};

const waitUntilReady = async (
  url: string,
  child: () => ChildProcess | undefined,
  name: string,
  lastWords: () => string,
  timeoutMs = 60_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exitCode = child()?.exitCode;
    if (exitCode !== null && exitCode !== undefined) {
      const said = lastWords().trim();
      throw new Error(`${name} exited with ${exitCode}${said ? `; its last words: ${said}` : ''}`);
    }
    if (
      (await fetch(`${url}/readyz`)
        .then((response) => response.status)
        .catch(() => 0)) === 200
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} was not ready within ${timeoutMs} ms`);
};

/** One service as its own process, restartable with the same settings; its start waits for /readyz. */
export const serviceProcess = (
  name: ServiceName,
  port: number,
  environment: Record<string, string>,
  output: 'inherit' | 'ignore',
): RunningService => {
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  // The end of what the process wrote to stderr, shown when it dies at start even if its output is ignored.
  let stderrTail = '';
  const service: RunningService = {
    name,
    url,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      child = spawn(process.execPath, [serviceMain(manifest.get(name))], {
        env: { ...process.env, OTEL_SERVICE_NAME: `galion-${name}`, ...environment, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', output, 'pipe'],
      });
      stderrTail = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        if (output === 'inherit') process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2_000);
      });
      // Stopped with the launcher, even when the launcher is killed outright.
      stopWithThisProcess(child);
      await waitUntilReady(url, () => child, name, () => stderrTail);
    },
    stop: () =>
      new Promise((resolve) => {
        const current = child;
        if (!current || current.exitCode !== null || current.signalCode !== null) {
          resolve();
          return;
        }
        current.once('exit', () => resolve());
        current.kill('SIGTERM');
      }),
  };
  return service;
};

/**
 * The platform as it runs in a cluster: each service of services.json its own process, against
 * real PostgreSQL, Redis, a Kafka broker and an S3 server (versitygw, when built) on loopback,
 * started stage by stage after the services it calls. Used by `npm run start:distributed` and by
 * the live tests.
 */
export const startPlatform = async (options: PlatformOptions): Promise<Platform> => {
  await mkdir(options.dataDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through this folder.
  if (process.getuid?.() === 0) await chmod(options.dataDir, 0o711);
  const output = options.output ?? 'inherit';
  const postgresFor = async (name: string) =>
    startPostgres({ dataDir: path.join(options.dataDir, `postgres-${name}`), persistent: true, durable: true });
  // Whatever started is stopped again should a later step fail: nothing is left running.
  const started: { stop(): Promise<void> }[] = [];
  const track = async <T extends { stop(): Promise<void> }>(starting: Promise<T>): Promise<T> => {
    const handle = await starting;
    started.push(handle);
    return handle;
  };
  const stopStarted = () => Promise.allSettled(started.map((handle) => handle.stop()));
  const services: Record<ServiceName, RunningService> = {};
  const stop = async () => {
    await Promise.all(Object.values(services).map((service) => service.stop()));
    await stopStarted();
  };
  let publicUrl: string;
  const postgres: Record<ServiceName, PostgresHandle> = {};
  const databases: Record<ServiceName, string> = {};
  let redis: RedisHandle;
  let kafka: KafkaHandle;
  let mailpit: MailpitHandle;
  let s3: S3Handle | undefined;
  const objectStores = manifest.services.filter((service) => service.dependencies.includes('s3'));
  try {
    const [shared, startedRedis, startedKafka, startedMailpit, startedS3] = await Promise.all([
      options.postgresPerService ? undefined : track(postgresFor('shared')),
      track(startRedis()),
      track(startKafka()),
      track(startMailpit()),
      // Its buckets are kept in the data folder, as the databases are.
      objectStores.length > 0 && s3Available() ? track(startS3({ dataDir: path.join(options.dataDir, 's3') })) : undefined,
    ]);
    [redis, kafka, mailpit, s3] = [startedRedis, startedKafka, startedMailpit, startedS3];
    for (const { name } of manifest.withDatabase()) {
      const server = shared ?? (await track(postgresFor(name)));
      postgres[name] = server;
      databases[name] = server.urlFor(localDatabaseName(name));
    }
    await Promise.all(Object.values(databases).map((url) => ensureDatabaseExists(url)));
    const keyFile = await ensureSigningKeyFile(options.dataDir);
    const ports: Record<ServiceName, number> = {};
    for (const name of SERVICE_NAMES) ports[name] = name === GATEWAY ? (options.gatewayPort ?? (await freePort())) : await freePort();
    const urlOf = (name: ServiceName) => `http://127.0.0.1:${byName(ports, name, 'port')}`;
    publicUrl = `http://localhost:${byName(ports, GATEWAY, 'port')}`;
    const authUrl = urlOf(ISSUER);
    const sharedEnv = {
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.brokers.join(','),
      MIGRATE_ON_START: 'true',
      PUBLIC_BASE_URL: publicUrl,
      AUTH_URL: authUrl,
      AUTH_JWKS_URL: `${authUrl}/api/v1/auth/.well-known/jwks.json`,
      ...sharedTokenLifetime({ ...process.env, ...options.env }),
      ...options.env,
    };
    const admin = options.admin ?? { email: 'admin@galion.local', password: 'change-me-admin-password' };
    const stores: Record<ServiceName, LocalObjectStore> = {};
    for (const { name } of objectStores) {
      stores[name] = s3
        ? { s3 }
        : { dir: path.join(options.dataDir, name), signingKey: await urlSigningKey(options.dataDir, name), publicUrl };
    }
    /** What a service is given for what services.json says it needs: its database, mail, object store, the services it calls. */
    const ownEnv = (name: ServiceName): Record<string, string> => {
      const service = manifest.get(name);
      const prefix = envPrefix(name);
      return {
        ...(service.dependencies.includes('postgres') && { DATABASE_URL: byName(databases, name, 'database') }),
        ...(name === ISSUER && {
          AUTH_JWT_KEYS_FILE: keyFile.file,
          AUTH_ADMIN_EMAIL: admin.email,
          AUTH_ADMIN_PASSWORD: admin.password,
        }),
        ...(service.dependencies.includes('smtp') && {
          [`${prefix}_SMTP_HOST`]: mailpit.smtp.host,
          [`${prefix}_SMTP_PORT`]: String(mailpit.smtp.port),
          [`${prefix}_SMTP_TLS`]: 'none',
          [`${prefix}_MAIL_FROM`]: 'Galion <no-reply@localhost>',
        }),
        ...(service.dependencies.includes('s3') && objectStoreEnv(name, byName(stores, name, 'object store'))),
        ...Object.fromEntries(manifest.callsOf(name).map((callee) => [`${envPrefix(callee)}_URL`, urlOf(callee)])),
      };
    };
    for (const name of SERVICE_NAMES) {
      services[name] = serviceProcess(
        name,
        byName(ports, name, 'port'),
        { ...sharedEnv, ...ownEnv(name), ...options.serviceEnv?.[name] },
        output,
      );
    }
    for (const stage of manifest.startStages()) await Promise.all(stage.map(({ name }) => byName(services, name, 'process').start()));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    gatewayUrl: publicUrl,
    services,
    postgres,
    redis,
    kafka,
    mailpit,
    s3,
    service: (name) => byName(services, name, 'service'),
    databaseUrl: (name) => byName(databases, name, 'database'),
    stop,
  };
};
