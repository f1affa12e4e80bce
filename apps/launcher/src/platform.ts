import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureDatabaseExists } from '@galion/kit';
import {
  freePort,
  startKafka,
  startMailpit,
  startPostgres,
  startRedis,
  stopWithThisProcess,
  type KafkaHandle,
  type MailpitHandle,
  type PostgresHandle,
  type RedisHandle,
} from '@galion/localdeps';
import { ensureSigningKeyFile } from './data-dir.js';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export const SERVICE_NAMES = ['auth', 'users', 'analytics', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

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
  services: Record<ServiceName, RunningService>;
  postgres: Record<Exclude<ServiceName, 'gateway'>, PostgresHandle>;
  redis: RedisHandle;
  kafka: KafkaHandle;
  /** The SMTP server auth sends its mail to, with the page and API to read it. */
  mailpit: MailpitHandle;
  stop(): Promise<void>;
}

const waitUntilReady = async (url: string, child: () => ChildProcess | undefined, name: string, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exitCode = child()?.exitCode;
    if (exitCode !== null && exitCode !== undefined) throw new Error(`${name} exited with ${exitCode}`);
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

/** One service as its own process, restartable with the same settings. */
const serviceProcess = (
  name: ServiceName,
  port: number,
  environment: Record<string, string>,
  output: 'inherit' | 'ignore',
): RunningService => {
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  const service: RunningService = {
    name,
    url,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
        env: { ...process.env, OTEL_SERVICE_NAME: `galion-${name}`, ...environment, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', output, output],
      });
      // Stopped with the launcher, even when the launcher is killed outright.
      stopWithThisProcess(child);
      await waitUntilReady(url, () => child, name);
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
 * The platform as it runs in a cluster: each service its own process, against real PostgreSQL,
 * Redis and a Kafka broker on loopback. Used by `npm run start:distributed` and by the live tests.
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
  let services: Record<ServiceName, RunningService> | undefined;
  const stop = async () => {
    if (services) await Promise.all(Object.values(services).map((service) => service.stop()));
    await stopStarted();
  };
  let publicUrl: string;
  let postgres: Record<Exclude<ServiceName, 'gateway'>, PostgresHandle>;
  let redis: RedisHandle;
  let kafka: KafkaHandle;
  let mailpit: MailpitHandle;
  try {
    const [shared, startedRedis, startedKafka, startedMailpit] = await Promise.all([
      options.postgresPerService ? undefined : track(postgresFor('shared')),
      track(startRedis()),
      track(startKafka()),
      track(startMailpit()),
    ]);
    [redis, kafka, mailpit] = [startedRedis, startedKafka, startedMailpit];
    postgres = {
      auth: shared ?? (await track(postgresFor('auth'))),
      users: shared ?? (await track(postgresFor('users'))),
      analytics: shared ?? (await track(postgresFor('analytics'))),
    };
    const databases = {
      auth: postgres.auth.urlFor('galion_auth'),
      users: postgres.users.urlFor('galion_users'),
      analytics: postgres.analytics.urlFor('galion_analytics'),
    };
    await Promise.all(Object.values(databases).map((url) => ensureDatabaseExists(url)));
    const keyFile = await ensureSigningKeyFile(options.dataDir);
    const gatewayPort = options.gatewayPort ?? (await freePort());
    const [authPort, usersPort, analyticsPort] = [await freePort(), await freePort(), await freePort()];
    publicUrl = `http://localhost:${gatewayPort}`;
    const authUrl = `http://127.0.0.1:${authPort}`;
    const sharedEnv = {
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.brokers.join(','),
      MIGRATE_ON_START: 'true',
      PUBLIC_BASE_URL: publicUrl,
      AUTH_URL: authUrl,
      AUTH_JWKS_URL: `${authUrl}/api/v1/auth/.well-known/jwks.json`,
      ...options.env,
    };
    const admin = options.admin ?? { email: 'admin@galion.local', password: 'change-me-admin-password' };
    const make = (name: ServiceName, port: number, extra: Record<string, string>) =>
      serviceProcess(name, port, { ...sharedEnv, ...extra, ...options.serviceEnv?.[name] }, output);
    services = {
      auth: make('auth', authPort, {
        DATABASE_URL: databases.auth,
        AUTH_JWT_KEYS_FILE: keyFile.file,
        AUTH_SMTP_HOST: mailpit.smtp.host,
        AUTH_SMTP_PORT: String(mailpit.smtp.port),
        AUTH_SMTP_TLS: 'none',
        AUTH_MAIL_FROM: 'Galion <no-reply@localhost>',
        AUTH_ADMIN_EMAIL: admin.email,
        AUTH_ADMIN_PASSWORD: admin.password,
      }),
      users: make('users', usersPort, { DATABASE_URL: databases.users }),
      analytics: make('analytics', analyticsPort, { DATABASE_URL: databases.analytics }),
      gateway: make('gateway', gatewayPort, {
        USERS_URL: `http://127.0.0.1:${usersPort}`,
        ANALYTICS_URL: `http://127.0.0.1:${analyticsPort}`,
      }),
    };
    await services.auth.start();
    await Promise.all([services.users.start(), services.analytics.start()]);
    await services.gateway.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl: publicUrl, services, postgres, redis, kafka, mailpit, stop };
};
