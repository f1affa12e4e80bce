import type { Writable } from 'node:stream';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { env, loadConfig, withPassword, type BuildInfo } from './config.js';
import { registerDependencyErrors } from './error-mapping.js';
import { Health } from './health.js';
import type { Closers } from './kv.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, registerPoolMetrics, type ServiceMetrics } from './metrics.js';
import { z } from './zod.js';

export type { Knex } from 'knex';

// PostgreSQL's and knex's ways of saying the database cannot be reached: a 503, not a 500.
registerDependencyErrors({
  codes: [
    '57P01', // admin_shutdown
    '57P02', // crash_shutdown
    '57P03', // cannot_connect_now
    '53300', // too_many_connections
    '08000',
    '08001',
    '08003',
    '08004',
    '08006',
  ],
  names: ['KnexTimeoutError'],
  messages: /Connection terminated/,
});

// Return BIGINT and NUMERIC columns as JS numbers where they fit: counts in Galion never exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export interface DatabaseSettings {
  url: string;
  poolMin?: number;
  poolMax?: number;
  /** How long a query waits for a free connection before failing (answered as 503). */
  acquireTimeoutMs?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
  /** TLS to PostgreSQL (certificates verified against the system's trust store). */
  ssl?: boolean;
  /** Where knex's own warnings go; silent without one. */
  logger?: Logger;
}

export const createDatabase = (settings: DatabaseSettings): Knex =>
  knexFactory({
    client: 'pg',
    connection: {
      connectionString: settings.url,
      application_name: settings.applicationName,
      statement_timeout: settings.statementTimeoutMs ?? 30_000,
      ...(settings.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
      connectionTimeoutMillis: 5_000,
    },
    pool: { min: settings.poolMin ?? 0, max: settings.poolMax ?? 10 },
    acquireConnectionTimeout: settings.acquireTimeoutMs ?? 5_000,
    log: {
      warn: (message: unknown) => settings.logger?.warn({ knex: String(message) }, 'knex warning'),
      error: (message: unknown) => settings.logger?.error({ knex: String(message) }, 'knex error'),
      deprecate: (message: unknown) => settings.logger?.warn({ knex: String(message) }, 'knex deprecation'),
      debug: () => undefined,
    },
  });

/** Creates the database named in `url` when it does not exist yet (all-in-one mode and tests). */
export const ensureDatabaseExists = async (url: string): Promise<void> => {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('the database URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
};

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Runs a service's migrations (listed in code, so they work the same from sources and builds). */
export const migrateLatest = async (knex: Knex, migrations: Migration[], tableName = 'knex_migrations'): Promise<string[]> => {
  const [, applied] = (await knex.migrate.latest({
    tableName,
    migrationSource: {
      getMigrations: async () => migrations,
      getMigrationName: (migration: Migration) => migration.name,
      getMigration: async (migration: Migration) => migration,
    },
  })) as [number, string[]];
  return applied;
};

/** Exposes the knex pool's usage as metrics on `registry`. */
export const instrumentDatabasePool = (registry: Registry, knex: Knex): void => {
  registerPoolMetrics(registry, () => (knex.client as { pool?: { numUsed(): number; numPendingAcquires(): number; max: number } }).pool);
};

export const pingDatabase = async (knex: Knex): Promise<void> => {
  await knex.raw('SELECT 1');
};

/** A field of COPY's text format: backslash, tab and line breaks escaped; null (or undefined) is `\N`. */
export const copyField = (value: string | number | null | undefined): string => {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  // Most fields have nothing to escape: a test is cheaper than a replace that changes nothing.
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : text;
};

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

interface CopyConnection {
  stream: Writable;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * `COPY ... FROM STDIN` of `chunks` (COPY text: one line per row), through node-postgres's own
 * protocol support: a query object the client hands the CopyInResponse to, written with the
 * socket's backpressure. Runs on `db`'s connection (a transaction's own, when `db` is one) and
 * resolves with the rows copied; a row the table refuses fails the whole COPY with
 * PostgreSQL's error (a unique violation: see isUniqueViolation).
 */
export const copyIn = async (db: Knex, sql: string, chunks: Buffer[]): Promise<number> => {
  const client = (await db.client.acquireConnection()) as pg.Client;
  try {
    return await new Promise<number>((resolve, reject) => {
      let rows = 0;
      client.query({
        submit: (connection: { query(text: string): void }) => connection.query(sql),
        handleCopyInResponse: async (connection: CopyConnection) => {
          for (const chunk of chunks) {
            connection.sendCopyFromChunk(chunk);
            if (connection.stream.writableNeedDrain) await new Promise((drained) => connection.stream.once('drain', drained));
          }
          connection.endCopyFrom();
        },
        handleCommandComplete: (message: { text: string }) => {
          rows = Number(message.text.split(' ').at(-1));
        },
        // node-postgres hands a failed query no ReadyForQuery (the connection takes the next query once it comes).
        handleError: reject,
        handleReadyForQuery: () => resolve(rows),
      } as never);
    });
  } finally {
    await db.client.releaseConnection(client);
  }
};

/** Postgres unique-violation, so repositories can turn it into a domain conflict. */
export const isUniqueViolation = (error: unknown, constraint?: string): boolean => {
  const pgError = error as { code?: string; constraint?: string };
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
};

/** The body of a service's `migrate` command: apply its migrations to DATABASE_URL and stop. */
export const runMigrationCommand = async (
  service: string,
  migrations: Migration[],
  source: NodeJS.ProcessEnv = process.env,
): Promise<string[]> => {
  const settings = loadConfig(
    z.object({
      DATABASE_URL: env.url(['postgres', 'postgresql']),
      DATABASE_PASSWORD: env.string().optional(),
      DATABASE_SSL: env.bool().default(false),
      LOG_LEVEL: env.logLevel().default('info'),
    }),
    source,
  );
  const logger = createLogger({ service: `${service}-migrate`, level: settings.LOG_LEVEL });
  const knex = createDatabase({
    url: withPassword(settings.DATABASE_URL, settings.DATABASE_PASSWORD),
    poolMax: 1,
    ssl: settings.DATABASE_SSL,
  });
  try {
    const applied = await migrateLatest(knex, migrations);
    logger.info({ migrations: applied }, applied.length > 0 ? 'migrations applied' : 'schema already up to date');
    return applied;
  } finally {
    await knex.destroy();
  }
};

/**
 * A service's database, composed: created when asked (all-in-one, tests), pooled, its pool in the
 * metrics, checked by readiness, migrated at start when configured, closed at shutdown.
 */
export const connectDatabase = async (options: {
  database: { url: string; poolMax: number; ssl: boolean };
  service: string;
  migrations: Migration[];
  migrateOnStart: boolean;
  create?: boolean;
  logger: Logger;
  registry: Registry;
  health: Health;
  closers: Closers;
}): Promise<Knex> => {
  const { database, logger } = options;
  if (options.create) await ensureDatabaseExists(database.url);
  const knex = createDatabase({
    url: database.url,
    poolMax: database.poolMax,
    ssl: database.ssl,
    applicationName: `galion-${options.service}`,
    logger,
  });
  options.closers.push({ name: 'postgres', close: () => knex.destroy() });
  instrumentDatabasePool(options.registry, knex);
  options.health.addCheck('postgres', () => pingDatabase(knex));
  if (options.migrateOnStart) {
    const applied = await migrateLatest(knex, options.migrations);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  }
  return knex;
};

/**
 * What a service with a database opens first, the same way in each: its metrics, health checks
 * and shutdown list, and its connected (and, if asked, migrated) database.
 */
export const openServiceWithDatabase = async (options: {
  service: string;
  config: { build: BuildInfo; database: { url: string; poolMax: number; ssl: boolean }; migrateOnStart: boolean };
  migrations: Migration[];
  logger: Logger;
  create?: boolean;
}): Promise<{ closers: Closers; metrics: ServiceMetrics; health: Health; knex: Knex }> => {
  const closers: Closers = [];
  const metrics = createMetrics({ build: options.config.build });
  const health = new Health();
  const knex = await connectDatabase({
    database: options.config.database,
    service: options.service,
    migrations: options.migrations,
    migrateOnStart: options.config.migrateOnStart,
    create: options.create,
    logger: options.logger,
    registry: metrics.registry,
    health,
    closers,
  });
  return { closers, metrics, health, knex };
};
