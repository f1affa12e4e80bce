import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import pg from 'pg';

/** Environment variables through which jest's global setup hands the shared servers to test workers. */
export const testEnv = {
  postgresUrl: 'GALION_TEST_PG_URL',
  redisUrl: 'GALION_TEST_REDIS_URL',
  kafkaBrokers: 'GALION_TEST_KAFKA_BROKERS',
} as const;

const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests with jest from the repository root (its global setup starts the servers)`);
  return value;
};

const uniqueSuffix = (): string => `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

export interface TestDatabase {
  url: string;
  name: string;
  /** Ends every connection to the database and drops it. */
  drop(): Promise<void>;
}

const withAdminClient = async <T>(run: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: requireEnv(testEnv.postgresUrl) });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
};

/** Creates a database with a unique name, starting with `prefix`, on the shared test server. */
export const testDatabase = async (prefix: string): Promise<TestDatabase> => {
  const stem = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const name = `${stem}_${uniqueSuffix()}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(requireEnv(testEnv.postgresUrl));
  url.pathname = `/${name}`;
  const drop = async (): Promise<void> => {
    await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
  };
  return { url: url.toString(), name, drop };
};

/** The shared test Redis and a key prefix no other caller gets. */
export const testRedis = (): { url: string; prefix: string } => ({
  url: requireEnv(testEnv.redisUrl),
  prefix: `test:${uniqueSuffix()}:`,
});

/** The shared test Kafka broker's bootstrap addresses. */
export const testKafkaBrokers = (): string[] => requireEnv(testEnv.kafkaBrokers).split(',');

/** Serves `app` on 127.0.0.1 on a free port. */
export const startTestServer = async (app: Express): Promise<{ url: string; close(): Promise<void> }> => {
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // Keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
    });
  return { url: `http://127.0.0.1:${port}`, close };
};

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** An attempt that throws counts as "not yet" (the last error is in the timeout's message). Default false. */
  tolerateErrors?: boolean;
}

/**
 * Polls `attempt` until it gives a value other than undefined, and returns that value; fails after
 * `timeoutMs` naming `what`.
 */
export const pollFor = async <T>(what: string, attempt: () => Promise<T | undefined> | T | undefined, options: PollOptions = {}): Promise<T> => {
  const { timeoutMs = 20_000, intervalMs = 50, tolerateErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      if (!tolerateErrors) throw error;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
};

/** Polls until `predicate` holds (for effects that arrive through events); fails after `timeoutMs`. */
export const eventually = async (
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'the condition',
): Promise<void> => {
  await pollFor(what, async () => ((await predicate()) ? true : undefined), { timeoutMs });
};
