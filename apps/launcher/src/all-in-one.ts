// Tracing first, so that http, express and pg are instrumented when they load.
import '@galion/kit/tracing';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { composeAnalytics, loadAnalyticsConfig } from '@galion/analytics';
import { composeAuth, loadAuthConfig } from '@galion/auth';
import { InProcessEventBus, type EventBus } from '@galion/events';
import { composeFeed, loadFeedConfig } from '@galion/feed';
import { composeGateway, loadGatewayConfig } from '@galion/gateway';
import {
  AppError,
  createHttpApp,
  createLogger,
  createMetrics,
  Health,
  Lifecycle,
  listen,
  MemoryStore,
  runMain,
  serverUrl,
  type ComposedService,
  type KeyValueStore,
  type Logger,
} from '@galion/kit';
import { mailpitAvailable, redisAvailable, startMailpit, startPostgres, startRedis } from '@galion/localdeps';
import { envPrefix, GATEWAY, manifest, REPO_ROOT } from '@galion/manifest';
import { composeMedia, loadMediaConfig } from '@galion/media';
import { composePosts, loadPostsConfig } from '@galion/posts';
import { StaticKeySource, type KeySource } from '@galion/tokens';
import { composeUsers, loadUsersConfig } from '@galion/users';
import { ensureSigningKeyFile, firstAdmin } from './data-dir.js';
import { ISSUER, localDatabaseName, objectStoreEnv, urlSigningKey } from './platform.js';
import { loadAllInOneSettings, sharedTokenLifetime } from './settings.js';

/** What this mode hands each service it composes: one store, one bus and auth's keys for all. */
interface SharedInfrastructure {
  logger: Logger;
  store: KeyValueStore;
  bus: EventBus;
  keys: KeySource;
  createDatabase: boolean;
}

/**
 * How this mode composes each service behind the gateway other than auth, from its settings and the
 * shared infrastructure (in-process store, bus and auth's keys). services.json says which run and
 * in what order; a service it lists that is missing here stops the start with its name.
 */
const composers: Record<string, (env: NodeJS.ProcessEnv, infra: SharedInfrastructure) => Promise<ComposedService>> = {
  users: (env, infra) => composeUsers(loadUsersConfig(env), infra),
  analytics: (env, infra) => composeAnalytics(loadAnalyticsConfig(env), infra),
  posts: (env, infra) => composePosts(loadPostsConfig(env), infra),
  feed: (env, infra) => composeFeed(loadFeedConfig(env), infra),
  media: (env, infra) => composeMedia(loadMediaConfig(env), infra),
};

/**
 * The services that need a real Redis: the in-process store has no Lua scripts and no sorted sets,
 * which the feed's read model is made of. They get REDIS_URL of a redis-server kept in the data
 * folder; the others keep the in-process store.
 */
const NEEDS_REDIS = new Set(['feed']);

/**
 * What the gateway routes to in place of a service that cannot run here: alive, so the gateway stays
 * ready, and answering every call of its API 503, saying why.
 */
const standIn = (name: string, prefix: string, reason: string, logger: Logger): ComposedService => {
  const metrics = createMetrics({ defaultMetrics: false });
  const health = new Health();
  const app = createHttpApp({
    service: name,
    logger,
    metrics,
    health,
    mount: (app) => app.use(prefix, (_req, _res, next) => next(new AppError(503, 'dependency_unavailable', reason))),
  });
  return { app, metrics, health, closers: [] };
};

/**
 * The whole platform in one process: an embedded PostgreSQL kept in the data folder (a database
 * per service), the in-process event bus and store in place of Kafka and Redis (a real
 * redis-server, also kept in the data folder, for the feed alone), a folder of the data folder in
 * place of S3 (media's images), and the same service code as in the cluster. The gateway listens on the public port; the services listen on loopback ports of
 * their own behind it.
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
  // Mail a newcomer can read: Mailpit keeps every message and shows it in a page, unless mail is
  // configured to go elsewhere.
  const ownMail = !process.env.AUTH_SMTP_HOST && !process.env.AUTH_MAIL_WEBHOOK_URL && mailpitAvailable();
  const mailpit = ownMail ? await startMailpit({ dataDir: path.join(settings.dataDir, 'mail') }) : undefined;
  const mailEnv = mailpit
    ? {
        AUTH_SMTP_HOST: mailpit.smtp.host,
        AUTH_SMTP_PORT: String(mailpit.smtp.port),
        AUTH_SMTP_TLS: 'none',
        AUTH_MAIL_FROM: 'Galion <no-reply@localhost>',
      }
    : {};
  // The feed's Redis, persisted beside the database: the in-process bus keeps no events to rebuild
  // the feeds from. Without redis-server the platform runs without the feed.
  const redisWanted = manifest.names.some((name) => NEEDS_REDIS.has(name));
  const redis = redisWanted && redisAvailable() ? await startRedis({ dataDir: path.join(settings.dataDir, 'redis') }) : undefined;
  const noRedis =
    'npm start found no redis-server: install it (Debian: apt-get install redis-server; macOS: brew install redis) and start again';
  if (redisWanted && !redis) logger.warn(`the feed is not running: ${noRedis}`);
  const publicUrl = settings.publicUrl ?? `http://localhost:${settings.port}`;
  const store = new MemoryStore();
  const bus = new InProcessEventBus();
  const common = {
    ...process.env,
    ...sharedTokenLifetime(process.env),
    LOG_LEVEL: settings.logLevel,
    MIGRATE_ON_START: 'true',
    PUBLIC_BASE_URL: publicUrl,
    HOST: '127.0.0.1',
  };
  const infra = { store, bus, createDatabase: true };

  const services: ComposedService[] = [];
  const servers: Awaited<ReturnType<typeof listen>>[] = [];
  const serveInternally = async (service: ComposedService) => {
    services.push(service);
    const server = await listen(service.app, 0, '127.0.0.1');
    servers.push(server);
    return serverUrl(server);
  };

  const auth = await composeAuth(
    loadAuthConfig({
      ...common,
      DATABASE_URL: postgres.urlFor(localDatabaseName(ISSUER)),
      AUTH_JWT_KEYS_FILE: keyFile.file,
      ...mailEnv,
      ...(admin.password ? { AUTH_ADMIN_EMAIL: admin.email, AUTH_ADMIN_PASSWORD: admin.password } : {}),
    }),
    { ...infra, logger: logger.child({ service: ISSUER }) },
  );
  await admin.remember();
  const authUrl = await serveInternally(auth);
  const keys = await StaticKeySource.fromJwks(auth.keys.publicJwks());

  // The other services, each after those it calls and given their URLs (the gateway is given all of them).
  const urls: Record<string, string> = { [ISSUER]: authUrl };
  const urlSettings = (names: string[]) => Object.fromEntries(names.map((name) => [`${envPrefix(name)}_URL`, urls[name] ?? '']));
  for (const { name, prefix, dependencies } of manifest.startStages().flat()) {
    if (name === ISSUER || name === GATEWAY) continue;
    const compose = composers[name];
    if (!compose)
      throw new Error(`services.json lists ${name}, which the all-in-one mode does not compose: add it to apps/launcher/src/all-in-one.ts`);
    const serviceLogger = logger.child({ service: name });
    if (NEEDS_REDIS.has(name) && !redis) {
      urls[name] = await serveInternally(
        standIn(name, prefix ?? `/api/v1/${name}`, `The ${name} service is not running: ${noRedis}.`, serviceLogger),
      );
      continue;
    }
    const database = dependencies.includes('postgres') ? { DATABASE_URL: postgres.urlFor(localDatabaseName(name)) } : {};
    const ownRedis = NEEDS_REDIS.has(name) && redis ? { REDIS_URL: redis.url } : {};
    // A folder of the data folder, unless <NAME>_STORAGE says where else (a bucket of yours: MEDIA_STORAGE=s3 and MEDIA_S3_*).
    const objects =
      dependencies.includes('s3') && !process.env[`${envPrefix(name)}_STORAGE`]
        ? objectStoreEnv(name, {
            dir: path.join(settings.dataDir, name),
            signingKey: await urlSigningKey(settings.dataDir, name),
            publicUrl,
          })
        : {};
    const service = await compose(
      { ...common, ...database, ...ownRedis, ...objects, ...urlSettings(manifest.callsOf(name)) },
      { ...infra, keys, logger: serviceLogger },
    );
    urls[name] = await serveInternally(service);
  }

  const gatewayConfig = loadGatewayConfig({ ...common, HOST: settings.host, ...urlSettings(manifest.callsOf(GATEWAY)) });
  const gateway = await composeGateway(gatewayConfig, { store, keys, logger: logger.child({ service: GATEWAY }) });
  services.push(gateway);

  const shutdown = new Lifecycle({ logger, health: gateway.health, shutdownTimeoutMs: 10_000 });
  shutdown.onShutdown('embedded postgres', () => postgres.stop());
  if (mailpit) shutdown.onShutdown('mailpit', () => mailpit.stop());
  if (redis) shutdown.onShutdown('redis', () => redis.stop());
  shutdown.onShutdown('memory store', () => store.close());
  shutdown.onShutdown('event bus', () => bus.close());
  for (const service of services) for (const closer of service.closers) shutdown.onShutdown(closer.name, closer.close);
  for (const server of servers) shutdown.addServer(server);
  shutdown.addServer(await listen(gateway.app, settings.port, settings.host, gatewayConfig.server));
  shutdown.handleSignals();

  const lines = [
    '',
    `Galion is running at ${publicUrl}`,
    `  Web app:    ${publicUrl}   (sign up, your profile; the admin console at ${publicUrl}/admin)`,
    `  API:        ${publicUrl}/api/v1/{${manifest.routed().map((service) => service.prefix.slice('/api/v1/'.length))}}`,
    ...(redisWanted
      ? [
          redis
            ? `  Feed:       Redis ${redis.url}   (home feeds and the global feed, kept in ${path.join(settings.dataDir, 'redis')})`
            : `  Feed:       not running: ${noRedis}`,
        ]
      : []),
    `  API docs:   ${publicUrl}/docs   (OpenAPI: ${publicUrl}/api/v1/openapi.json)`,
    `  Health:     ${publicUrl}/readyz`,
    mailpit
      ? `  Mail:       ${mailpit.webUrl}   (every mail Galion sends, such as verification and reset links)`
      : `  Mail:       ${process.env.AUTH_SMTP_HOST ? `SMTP ${process.env.AUTH_SMTP_HOST}` : process.env.AUTH_MAIL_WEBHOOK_URL ? 'the mail webhook' : 'written to the log (run scripts/install-mailpit.sh for a mail page)'}`,
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
