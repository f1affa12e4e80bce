import { z } from './zod.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, at start. Schema keys are the variable names, so every
 * message names the variable that is wrong. Empty strings count as unset.
 */
export const loadConfig = <S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> => {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.') || '(environment)';
      const given = typeof issue.path[0] === 'string' && present[issue.path[0]] !== undefined;
      return `  ${name}: ${issue.message}${given ? '' : ' (not set)'}`;
    });
    throw new ConfigError(`Invalid configuration, fix these environment variables:\n${lines.join('\n')}`);
  }
  return result.data;
};

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Small, strict parsers for environment variables. Every variable of a schema says what it does
 * once, with `.describe('...')`, or `.meta({ description, unset })` where `unset` says what applies
 * when an optional one is not set; scripts/gen-config-docs.mjs makes the configuration tables of
 * the README from these descriptions and the schemas' defaults.
 */
export const env = {
  string: () => z.string().min(1),
  int: (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
    z
      .string()
      .regex(/^-?\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
  number: (min = -Infinity, max = Infinity) =>
    z
      .string()
      .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
      .transform(Number)
      .pipe(z.number().min(min).max(max)),
  bool: () =>
    z
      .string()
      .refine((value) => TRUE.has(value.toLowerCase()) || FALSE.has(value.toLowerCase()), 'must be true or false')
      .transform((value) => TRUE.has(value.toLowerCase())),
  url: (protocols?: string[]) =>
    z.string().refine(
      (value) => {
        try {
          const url = new URL(value);
          return !protocols || protocols.includes(url.protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      protocols ? `must be a URL (${protocols.join(', ')})` : 'must be a URL',
    ),
  list: () =>
    z.string().transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
};

/**
 * How the HTTP server takes connections and how long a client may take (docs/gateway.md: Limits
 * under load). A client slower than the timeouts is cut off with 408, so it cannot hold a
 * connection and a parser for long.
 */
export interface ServerSettings {
  /** From a request's first byte to the end of its headers. */
  headersTimeoutMs: number;
  /** From a request's first byte to the end of its body (the response is not counted). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Requests on one connection before the server closes it (0: no limit). */
  maxRequestsPerSocket: number;
  /** Listening sockets on the port (SO_REUSEPORT where the platform has it, else 1). */
  listenSockets: number;
}

/** Can several sockets of one process listen on a port, the kernel spreading connections over them? */
const REUSE_PORT = process.platform === 'linux';
/** Listening sockets where REUSE_PORT holds (elsewhere one); one number on every platform, so the documented default is too. */
const LISTEN_SOCKETS = 16;

/** The defaults of `ServerSettings`, also for servers started without a configuration (tests, benchmarks). */
export const DEFAULT_SERVER_SETTINGS: ServerSettings = {
  // Enough for any real client over a slow link; a slowloris client is cut off within seconds.
  headersTimeoutMs: 10_000,
  // Bodies are at most BODY_LIMIT (100 kB by default): half a minute is a very slow upload.
  requestTimeoutMs: 30_000,
  // Longer than the idle timeout of the usual load balancers and ingress controllers (60 s), so
  // they close idle connections first and never send on one the server is closing.
  keepAliveTimeoutMs: 65_000,
  // A Kubernetes Service balances connections, not requests: a connection closed now and then
  // (one handshake per thousand requests) lets replicas added by a scale-out get their share.
  maxRequestsPerSocket: 1_000,
  // libuv accepts one connection per listening socket per event-loop turn: a busy process with
  // one socket takes a turn per new connection, and a burst of 1,000 waits seconds to be
  // accepted. Sixteen sockets accept sixteen a turn.
  listenSockets: REUSE_PORT ? LISTEN_SOCKETS : 1,
};

/** A service's HTTP port: the variable every service has, with the service's own default. */
export const portEnv = (port: number) => env.int(0, 65_535).default(port).describe('HTTP port');

/** The settings every service shares, with their defaults. */
export const commonEnv = {
  HOST: env.string().default('0.0.0.0').describe('address to listen on'),
  METRICS_PORT: env.int(1, 65_535).optional().meta({
    description: 'serve `/metrics` on a separate port (so a NetworkPolicy can open it to Prometheus only)',
    unset: 'same as `PORT`',
  }),
  LOG_LEVEL: env.logLevel().default('info').describe('pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'),
  SHUTDOWN_TIMEOUT_MS: env.int(0, 600_000).default(10_000).describe('time in-flight requests get to finish after SIGTERM'),
  SHUTDOWN_DRAIN_DELAY_MS: env
    .int(0, 120_000)
    .default(0)
    .describe('time to keep serving with readiness false before closing (let load balancers catch up)'),
  CORS_ORIGINS: env.list().default([]).describe('comma-separated browser origins allowed to call the API (`*` for any)'),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
    .default('100kb')
    .describe('largest accepted request body'),
  TRUST_PROXY: env.int(0, 10).default(1).describe('proxy hops to trust for the client IP (`X-Forwarded-For`)'),
  MAX_IN_FLIGHT_REQUESTS: env
    .int(0, 1_000_000)
    .default(1_024)
    .describe(
      'requests one process serves at once; past it a request is answered `503 overloaded` with `Retry-After: 1` at once instead of queueing (the probes always pass; counted in `http_server_shed_total`; `0`: no bound). Connections wait in a listen backlog of 4,096 rather than being reset',
    ),
  API_CHECK_RESPONSES: env
    .bool()
    .default(false)
    .describe(
      'for tests and the contract run: an answer its route does not declare (status or body) becomes a 500 naming the route (docs/api.md); leave off in production',
    ),
  HTTP_HEADERS_TIMEOUT_MS: env
    .int(100, 600_000)
    .default(DEFAULT_SERVER_SETTINGS.headersTimeoutMs)
    .describe(
      "time a client gets to send a request's headers, counted from its first byte; past it `408` and the connection is closed (at most `HTTP_REQUEST_TIMEOUT_MS`)",
    ),
  HTTP_REQUEST_TIMEOUT_MS: env
    .int(100, 3_600_000)
    .default(DEFAULT_SERVER_SETTINGS.requestTimeoutMs)
    .describe(
      "time a client gets to send the whole request with its body, counted from its first byte (the answer's time is not counted); past it `408` and the connection is closed",
    ),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env
    .int(1_000, 3_600_000)
    .default(DEFAULT_SERVER_SETTINGS.keepAliveTimeoutMs)
    .describe('how long an idle keep-alive connection stays open (longer than the usual 60 s of load balancers, so they close first)'),
  HTTP_MAX_REQUESTS_PER_SOCKET: env
    .int(0, 1_000_000)
    .default(DEFAULT_SERVER_SETTINGS.maxRequestsPerSocket)
    .describe(
      'requests on one connection before its answer says `Connection: close` (so replicas added by a scale-out get connections too; `0`: no limit)',
    ),
  HTTP_LISTEN_SOCKETS: env
    .int(1, 256)
    .default(LISTEN_SOCKETS)
    .describe(
      'sockets listening on the port (`SO_REUSEPORT`, Linux only: elsewhere always 1): Node accepts one connection per socket per turn of its event loop, so a busy process with one socket leaves a burst of new connections waiting seconds',
    ),
  GALION_VERSION: env
    .string()
    .default('dev')
    .describe("the release the process runs, in the `galion_build_info` metric; the image build sets it (the chart's appVersion)"),
  GALION_REVISION: env
    .string()
    .default('unknown')
    .describe('the source revision the process runs, in `galion_build_info`; the image build sets it (the source hash)'),
};

/** Puts a separately supplied password (from a Secret) into a connection URL. */
export const withPassword = (url: string, password: string | undefined): string => {
  if (!password) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
};

/** The settings every service has, read from `commonEnv` plus the service's own PORT default. */
export interface CommonConfig {
  port: number;
  host: string;
  metricsPort: number | undefined;
  logLevel: string;
  shutdownTimeoutMs: number;
  drainDelayMs: number;
  corsOrigins: string[];
  bodyLimit: string;
  trustProxy: number;
  /** Requests one process serves at once before it answers 503 (0: no bound). */
  maxInFlight: number;
  /** Hold every API answer to its route's declaration (API_CHECK_RESPONSES; tests only). */
  checkResponses: boolean;
  /** How the HTTP server takes connections and treats slow and idle clients. */
  server: ServerSettings;
  /** The release and source revision of the running build (the image's GALION_VERSION and GALION_REVISION). */
  build: BuildInfo;
}

export interface BuildInfo {
  version: string;
  revision: string;
}

const readServerSettings = (e: z.infer<z.ZodObject<typeof commonEnv>>): ServerSettings => {
  // Node refuses a headers deadline past the request deadline: said here, at start, by name.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid configuration, fix these environment variables:\n  HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (${e.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  return {
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: e.HTTP_MAX_REQUESTS_PER_SOCKET,
    listenSockets: REUSE_PORT ? e.HTTP_LISTEN_SOCKETS : 1,
  };
};

export const readCommonConfig = (e: z.infer<z.ZodObject<typeof commonEnv>> & { PORT: number }): CommonConfig => ({
  port: e.PORT,
  host: e.HOST,
  metricsPort: e.METRICS_PORT,
  logLevel: e.LOG_LEVEL,
  shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS,
  corsOrigins: e.CORS_ORIGINS,
  bodyLimit: e.BODY_LIMIT,
  trustProxy: e.TRUST_PROXY,
  maxInFlight: e.MAX_IN_FLIGHT_REQUESTS,
  checkResponses: e.API_CHECK_RESPONSES,
  server: readServerSettings(e),
  build: { version: e.GALION_VERSION, revision: e.GALION_REVISION },
});

/** The settings of a service with its own PostgreSQL database. */
export const databaseEnv = {
  DATABASE_URL: env.url(['postgres', 'postgresql']).describe("the service's database: `postgres://user@host:5432/db`"),
  DATABASE_PASSWORD: env.string().optional().describe('the database password, put into `DATABASE_URL` (so it can come from a Secret)'),
  DATABASE_POOL_MAX: env.int(1, 200).default(10).describe('connection pool size'),
  DATABASE_SSL: env.bool().default(false).describe("connect over TLS, checking the server's certificate"),
  MIGRATE_ON_START: env.bool().default(false).describe('apply migrations at start (in a cluster a Helm hook runs `node dist/migrate.js`)'),
};

/** The settings of a service that shares state through Redis (optional: in-process without it). */
export const redisEnv = {
  REDIS_URL: env
    .url(['redis', 'rediss'])
    .optional()
    .describe('Redis for limits, caches and revocations; without it they are kept in-process (one replica only)'),
  REDIS_PASSWORD: env.string().optional().describe('the Redis password, put into `REDIS_URL`'),
};

export interface DatabaseConfig {
  database: { url: string; poolMax: number; ssl: boolean };
  migrateOnStart: boolean;
}

export const readDatabaseConfig = (e: z.infer<z.ZodObject<typeof databaseEnv>>): DatabaseConfig => ({
  database: { url: withPassword(e.DATABASE_URL, e.DATABASE_PASSWORD), poolMax: e.DATABASE_POOL_MAX, ssl: e.DATABASE_SSL },
  migrateOnStart: e.MIGRATE_ON_START,
});

export const readRedisUrl = (e: z.infer<z.ZodObject<typeof redisEnv>>): string | undefined =>
  e.REDIS_URL ? withPassword(e.REDIS_URL, e.REDIS_PASSWORD) : undefined;
