import path from 'node:path';
import { createLogger, env, loadConfig, runMain, z } from '@galion/kit';
import { manifest, REPO_ROOT } from '@galion/manifest';
import { startPlatform } from './platform.js';

const settingsSchema = z.object({
  GALION_PORT: env.int(0, 65_535).default(8080),
  GALION_DATA_DIR: env.string().optional(),
  GALION_ADMIN_EMAIL: z.email().default('admin@galion.local'),
  GALION_ADMIN_PASSWORD: env.string().default('change-me-admin-password'),
  LOG_LEVEL: env.logLevel().default('info'),
});

/**
 * `npm run start:distributed`: each service in its own process, as in a cluster. Settings the
 * services read (OTEL_*, AUTH_*, RATE_LIMIT_*, ...) pass through from this environment.
 */
runMain(async () => {
  const settings = loadConfig(settingsSchema);
  const logger = createLogger({ service: 'launcher', level: 'info' });
  const platform = await startPlatform({
    dataDir: path.resolve(settings.GALION_DATA_DIR ?? path.join(REPO_ROOT, '.galion', 'distributed')),
    gatewayPort: settings.GALION_PORT,
    admin: { email: settings.GALION_ADMIN_EMAIL, password: settings.GALION_ADMIN_PASSWORD },
    env: { LOG_LEVEL: settings.LOG_LEVEL },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping every service');
      void platform.stop().then(() => process.exit(0));
    });
  }
  const objectStores = manifest.services
    .filter((service) => service.dependencies.includes('s3'))
    .map((service) => service.name)
    .join(', ');
  const lines = [
    '',
    `Galion (distributed mode) is running at ${platform.gatewayUrl}`,
    ...Object.values(platform.services).map((service) => `  ${service.name.padEnd(10)} ${service.url}   (metrics: ${service.url}/metrics)`),
    `  PostgreSQL ${[...new Set(Object.values(platform.postgres).map((server) => server.url))].join(', ')}`,
    `  Redis      ${platform.redis.url}`,
    `  Kafka      ${platform.kafka.brokers.join(',')}`,
    `  Mail       ${platform.mailpit.webUrl}   (Mailpit: every mail auth sends)`,
    platform.s3
      ? `  S3         ${platform.s3.endpoint}   (versitygw: the buckets galion-<service> of ${objectStores}, kept in ${platform.s3.dataDir})`
      : `  Objects    ${objectStores} on disk, in the data folder (scripts/install-versitygw.sh builds an S3 server)`,
    `  Admin      ${settings.GALION_ADMIN_EMAIL}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
});
