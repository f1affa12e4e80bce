import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports';
import { makeRunDir, startServerProcess, type ServerProcess } from './processes';

export interface S3Options {
  /** The folder holding the buckets, one sub-folder each (default: a temp dir, removed by `stop()`). */
  dataDir?: string;
  /** Defaults to a free port. */
  port?: number;
  /** Address to listen on, 127.0.0.1 by default (the local cluster's pods reach the node's address). */
  host?: string;
  /** The root user's access key (default `galion`). */
  accessKey?: string;
  /** The root user's secret key (default `galion-secret`). */
  secretKey?: string;
}

export interface S3Handle {
  /** http://<host>:<port>; clients need path-style addressing (`forcePathStyle: true`). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: 'us-east-1';
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

const installHint = 'run scripts/install-deps.sh (it builds versitygw with scripts/install-versitygw.sh)';

const versitygwPath = (): string => join(process.env.GALION_CACHE_DIR || join(homedir(), '.cache', 'galion'), 's3', 'bin', 'versitygw');

/** Whether scripts/install-versitygw.sh has built versitygw on this machine. */
export const s3Available = (): boolean => existsSync(versitygwPath());

const versitygwBinary = (): string => {
  if (!s3Available()) throw new Error(`versitygw is missing from ${versitygwPath()}: ${installHint}`);
  return versitygwPath();
};

/**
 * Polls `url` until the server answers anything over HTTP (versitygw prints its banner before it
 * listens; an unsigned `GET /` then answers 403). Fails when the server exits first.
 */
const waitForHttp = async (url: string, server: ServerProcess, logFile: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!server.isRunning()) throw new Error(`versitygw exited before it answered ${url}; log ${logFile}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      // Another process could hold the port: the answer counts only if versitygw still runs.
      if (server.isRunning()) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`versitygw did not answer ${url} within ${timeoutMs / 1000} s (${last}); log ${logFile}`);
};

/**
 * Starts versitygw (Apache-2.0), a real S3-compatible server, on 127.0.0.1 (or `host`) and a free
 * port, with its posix backend: each bucket is a folder of `dataDir` and each object a file in it. One root user
 * (single-account mode, no IAM), region us-east-1, plain HTTP. Its log is in a temp run dir removed
 * when the Node process ends; a default `dataDir` is removed by `stop()`.
 */
export const startS3 = async (options: S3Options = {}): Promise<S3Handle> => {
  const binary = versitygwBinary();
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const accessKey = options.accessKey ?? 'galion';
  const secretKey = options.secretKey ?? 'galion-secret';
  const runDir = makeRunDir('galion-s3-');
  const dataDir = options.dataDir ?? join(runDir, 'data');
  // versitygw refuses to start on a folder that does not exist.
  mkdirSync(dataDir, { recursive: true });
  const endpoint = `http://${host}:${port}`;
  const logFile = join(runDir, 'versitygw.log');

  const server = await startServerProcess({
    name: 'versitygw',
    command: binary,
    args: ['--port', `${host}:${port}`, 'posix', dataDir],
    // Only what it needs: versitygw reads many variables (VGW_*, ROOT_ACCESS_KEY_ID, LOGFILE,
    // WEBHOOK, ...) that the caller's environment must not switch on.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      ROOT_ACCESS_KEY: accessKey,
      ROOT_SECRET_KEY: secretKey,
    },
    logFile,
    cwd: runDir,
    readyText: 'service listening on:',
    timeoutMs: 30_000,
    stopSignal: 'SIGTERM',
    installHint,
    runDir,
  });
  try {
    await waitForHttp(`${endpoint}/`, server, logFile);
  } catch (error) {
    await server.stop();
    throw error;
  }

  const stop = async (): Promise<void> => {
    await server.stop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { endpoint, accessKey, secretKey, region: 'us-east-1', port, dataDir, stop };
};
