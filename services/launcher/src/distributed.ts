import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, ensureDatabaseExists, env, loadConfig, runMain, z } from '@galion/kit';
import { freePort, startKafka, startPostgres, startRedis } from '@galion/localdeps';
import { ensureSigningKeyFile } from './data-dir.js';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const serviceMain = (name: string) => path.join(REPO_ROOT, 'services', name, 'dist', 'main.js');

const settingsSchema = z.object({
  GALION_PORT: env.int(0, 65_535).default(8080),
  GALION_DATA_DIR: env.string().optional(),
  GALION_ADMIN_EMAIL: z.email().default('admin@galion.local'),
  GALION_ADMIN_PASSWORD: env.string().default('change-me-admin-password'),
  LOG_LEVEL: env.logLevel().default('info'),
});

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Starts one service's `main.js` as its own process; its JSON log lines go to our stdout. */
const startService = (name: string, port: number, environment: Record<string, string>): ServiceProcess => {
  const child = spawn(process.execPath, [serviceMain(name)], {
    env: { ...process.env, ...environment, PORT: String(port), HOST: '127.0.0.1', OTEL_SERVICE_NAME: `galion-${name}` },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return { name, url: `http://127.0.0.1:${port}`, child };
};

const waitUntilReady = async (service: ServiceProcess, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}`);
    if ((await fetch(`${service.url}/readyz`).then((response) => response.status).catch(() => 0)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs} ms`);
};

const stopService = (service: ServiceProcess): Promise<void> =>
  new Promise((resolve) => {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      resolve();
      return;
    }
    service.child.once('exit', () => resolve());
    service.child.kill('SIGTERM');
  });

/**
 * Distributed mode: each service in its own process, as in a cluster, against real PostgreSQL,
 * Redis and a Kafka broker started on loopback. Settings the services read (OTEL_*, AUTH_*, ...)
 * pass through from this process's environment.
 */
runMain(async () => {
  const settings = loadConfig(settingsSchema);
  const logger = createLogger({ service: 'launcher', level: 'info' });
  const dataDir = path.resolve(settings.GALION_DATA_DIR ?? path.join(REPO_ROOT, '.galion', 'distributed'));
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await chmod(dataDir, 0o711);

  const [postgres, redis, kafka] = await Promise.all([
    startPostgres({ dataDir: path.join(dataDir, 'postgres'), persistent: true, durable: true }),
    startRedis(),
    startKafka(),
  ]);
  const databases = { auth: postgres.urlFor('galion_auth'), users: postgres.urlFor('galion_users'), analytics: postgres.urlFor('galion_analytics') };
  await Promise.all(Object.values(databases).map((url) => ensureDatabaseExists(url)));
  const keyFile = await ensureSigningKeyFile(dataDir);
  const [authPort, usersPort, analyticsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const publicUrl = `http://localhost:${settings.GALION_PORT}`;
  const authUrl = `http://127.0.0.1:${authPort}`;
  const shared = {
    LOG_LEVEL: settings.LOG_LEVEL,
    REDIS_URL: redis.url,
    KAFKA_BROKERS: kafka.brokers.join(','),
    MIGRATE_ON_START: 'true',
    PUBLIC_BASE_URL: publicUrl,
    AUTH_URL: authUrl,
    AUTH_JWKS_URL: `${authUrl}/api/v1/auth/.well-known/jwks.json`,
  };

  const services: ServiceProcess[] = [];
  const stopAll = async () => {
    await Promise.all(services.map(stopService));
    await Promise.all([kafka.stop(), redis.stop(), postgres.stop()]);
  };
  try {
    const auth = startService('auth', authPort, {
      ...shared,
      DATABASE_URL: databases.auth,
      AUTH_JWT_KEYS_FILE: keyFile.file,
      AUTH_ADMIN_EMAIL: settings.GALION_ADMIN_EMAIL,
      AUTH_ADMIN_PASSWORD: settings.GALION_ADMIN_PASSWORD,
    });
    services.push(auth);
    await waitUntilReady(auth);
    const users = startService('users', usersPort, { ...shared, DATABASE_URL: databases.users });
    const analytics = startService('analytics', analyticsPort, { ...shared, DATABASE_URL: databases.analytics });
    services.push(users, analytics);
    await Promise.all([waitUntilReady(users), waitUntilReady(analytics)]);
    const gateway = startService('gateway', settings.GALION_PORT, {
      ...shared,
      USERS_URL: users.url,
      ANALYTICS_URL: analytics.url,
    });
    services.push(gateway);
    await waitUntilReady(gateway);
  } catch (error) {
    await stopAll();
    throw error;
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping every service');
      void stopAll().then(() => process.exit(0));
    });
  }
  for (const service of services) {
    service.child.once('exit', (code) => {
      logger.error({ service: service.name, code }, 'a service exited; stopping the platform');
      void stopAll().then(() => process.exit(1));
    });
  }
  const lines = [
    '',
    `Galion (distributed mode) is running at ${publicUrl}`,
    ...services.map((service) => `  ${service.name.padEnd(10)} ${service.url}   (metrics: ${service.url}/metrics)`),
    `  PostgreSQL ${postgres.url}`,
    `  Redis      ${redis.url}`,
    `  Kafka      ${kafka.brokers.join(',')}`,
    `  Admin      ${settings.GALION_ADMIN_EMAIL}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
});
