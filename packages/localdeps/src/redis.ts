import { join } from 'node:path';
import { freePort } from './ports';
import { makeRunDir, startServerProcess, type ServerProcess } from './processes';

export interface RedisOptions {
  /** Defaults to a free port. */
  port?: number;
  /** Address to listen on, 127.0.0.1 by default. */
  host?: string;
  /** The default user's password. Without one Redis (protected mode) serves loopback clients only. */
  password?: string;
}

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts again after `stop()` on the same port, empty (nothing is persisted). */
  start(): Promise<void>;
}

/** Starts Debian's `redis-server` on 127.0.0.1 (or `options.host`) without persistence. Its log is in a temp dir removed when the Node process ends. */
export const startRedis = async (options: RedisOptions = {}): Promise<RedisHandle> => {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const runDir = makeRunDir('galion-redis-');
  const logFile = join(runDir, 'redis.log');

  let server: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    if (server?.isRunning()) return;
    server = await startServerProcess({
      name: 'Redis',
      command: 'redis-server',
      args: ['--port', String(port), '--bind', host, ...(options.password ? ['--requirepass', options.password] : []), '--save', '', '--appendonly', 'no', '--dir', runDir, '--daemonize', 'no'],
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
