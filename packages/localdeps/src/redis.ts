import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePort } from './ports';
import { makeRunDir, startServerProcess, type ServerProcess } from './processes';

export interface RedisOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Address to listen on, 127.0.0.1 by default. */
  host?: string;
  /** The default user's password. Without one Redis (protected mode) serves loopback clients only. */
  password?: string;
  /**
   * Keeps the data in this folder across restarts (an append-only file, fsynced every second), as
   * the all-in-one mode does. Without it nothing is persisted.
   */
  dataDir?: string;
}

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts again after `stop()` on the same port: empty, unless it keeps its data in `dataDir`. */
  start(): Promise<void>;
}

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Whether `redis-server` is on the PATH (scripts/install-deps.sh installs Debian's). */
export const redisAvailable = (): boolean =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && isExecutable(join(dir, 'redis-server')));

/**
 * Starts Debian's `redis-server` on 127.0.0.1 (or `options.host`), without persistence unless given
 * a `dataDir`. Its log is in a temp dir removed when the Node process ends.
 */
export const startRedis = async (options: RedisOptions = {}): Promise<RedisHandle> => {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const runDir = makeRunDir('galion-redis-');
  const logFile = join(runDir, 'redis.log');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const persistence = options.dataDir
    ? ['--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']
    : ['--dir', runDir, '--appendonly', 'no', '--save', ''];

  let server: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    if (server?.isRunning()) return;
    server = await startServerProcess({
      name: 'Redis',
      command: 'redis-server',
      args: ['--port', String(port), '--bind', host, ...(options.password ? ['--requirepass', options.password] : []), ...persistence, '--daemonize', 'no'],
      logFile,
      readyText: 'Ready to accept connections',
      timeoutMs: 30_000,
      installHint: 'run scripts/install-deps.sh to install it',
      stopSignal: 'SIGTERM',
      runDir,
    });
  };
  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };

  await start();
  return { url: `redis://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}${host}:${port}`, port, stop, start };
};
