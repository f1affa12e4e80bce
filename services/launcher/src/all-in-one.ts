// Tracing first, so that http, express and pg are instrumented when they load.
import '@galion/kit/tracing';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { composeAuth, loadAuthConfig } from '@galion/auth';
import { InProcessEventBus } from '@galion/events';
import { createLogger, MemoryStore, runMain, serveService } from '@galion/kit';
import { startPostgres } from '@galion/localdeps';
import { ensureSigningKeyFile, firstAdmin } from './data-dir.js';
import { loadAllInOneSettings } from './settings.js';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The whole platform in one process: an embedded PostgreSQL kept in the data folder, in-process
 * stand-ins for Redis, and the same service code that runs in the cluster.
 */
runMain(async () => {
  const settings = loadAllInOneSettings(REPO_ROOT);
  const logger = createLogger({ service: 'all-in-one', level: settings.logLevel });
  await mkdir(settings.dataDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to pass through this folder.
  if (process.getuid?.() === 0) await chmod(settings.dataDir, 0o711);

  const postgres = await startPostgres({ dataDir: path.join(settings.dataDir, 'postgres'), persistent: true, durable: true });
  const keyFile = await ensureSigningKeyFile(settings.dataDir);
  if (keyFile.created) logger.warn({ file: keyFile.file }, 'generated a signing key for this installation');
  const admin = await firstAdmin(settings.dataDir, settings.admin);
  const publicUrl = settings.publicUrl ?? `http://localhost:${settings.port}`;
  const store = new MemoryStore();
  const bus = new InProcessEventBus();

  const authConfig = loadAuthConfig({
    ...process.env,
    LOG_LEVEL: settings.logLevel,
    DATABASE_URL: postgres.urlFor('galion_auth'),
    MIGRATE_ON_START: 'true',
    PUBLIC_BASE_URL: publicUrl,
    AUTH_JWT_KEYS_FILE: keyFile.file,
    ...(admin.password ? { AUTH_ADMIN_EMAIL: admin.email, AUTH_ADMIN_PASSWORD: admin.password } : {}),
  });
  const auth = await composeAuth(authConfig, { logger: logger.child({ service: 'auth' }), store, bus, createDatabase: true });
  await admin.remember();
  auth.closers.unshift({ name: 'embedded postgres', close: () => postgres.stop() });
  auth.closers.push({ name: 'memory store', close: () => store.close() }, { name: 'event bus', close: () => bus.close() });

  await serveService(auth, {
    name: 'galion',
    logger,
    port: settings.port,
    host: settings.host,
    shutdownTimeoutMs: authConfig.shutdownTimeoutMs,
    drainDelayMs: 0,
  });

  const lines = [
    '',
    `Galion is running at ${publicUrl}`,
    `  API:        ${publicUrl}/api/v1/auth`,
    `  OpenAPI:    ${publicUrl}/api/v1/auth/openapi.json`,
    `  Health:     ${publicUrl}/readyz`,
    `  Data:       ${settings.dataDir}`,
    admin.password && admin.generated
      ? `  Admin:      ${admin.email} / ${admin.password}   (shown once; set GALION_ADMIN_EMAIL and GALION_ADMIN_PASSWORD to choose)`
      : `  Admin:      ${admin.email}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
});
