import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Servers started here die with the Node process, so a crashed test run leaves none behind. The
// 'exit' listener stops them at once, but it cannot be relied on alone: jest gives test files a copy
// of `process` whose listeners never run, and a killed process runs none. So every run dir also has
// a watchdog.
const runningChildren = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [child, stopSignal] of runningChildren) child.kill(stopSignal);
  });
};

/** Names the server running from a run dir: "<pid> <signal>", present while it runs. */
const serverFile = '.server';

/**
 * A detached shell that waits for this Node process to end, then stops the run dir's server, if one
 * runs (escalating to SIGKILL after 10 s), and removes the run dir.
 */
const watchdogScript = `
trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -f "$2/${serverFile}" ]; then
  read -r pid signal < "$2/${serverFile}"
  kill -s "$signal" "$pid" 2>/dev/null
  tries=0
  while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 20 ]; do sleep 0.5; tries=$((tries + 1)); done
  kill -s KILL "$pid" 2>/dev/null
fi
rm -rf "$2"
`;

/**
 * A fresh directory under the OS temp dir for one server's files. It is removed, after its server is
 * stopped, once this Node process has ended.
 */
export const makeRunDir = (prefix: string): string => {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const watchdog = spawn('sh', ['-c', watchdogScript, 'galion-watchdog', String(process.pid), dir], { stdio: 'ignore', detached: true });
  // Without a shell there is no watchdog; the 'exit' listener still stops the servers.
  watchdog.once('error', () => undefined);
  watchdog.unref();
  return dir;
};

export interface ProcessSpec {
  /** Names the server in error messages. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Added to the error when the command cannot be run at all. */
  installHint?: string;
}

export interface ServerSpec extends ProcessSpec {
  /** Output that shows the server is ready. */
  readyText: string;
  timeoutMs: number;
  /** The signal that shuts the server down cleanly. */
  stopSignal: NodeJS.Signals;
  /** The server's run dir (see makeRunDir), whose watchdog stops it should this Node process die first. */
  runDir: string;
}

const fileSize = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

const readFrom = (file: string, offset: number): string => {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
};

const tail = (text: string, lines = 40): string => text.trimEnd().split('\n').slice(-lines).join('\n');

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

const waitForExit = (child: ChildProcess): Promise<void> =>
  hasExited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/**
 * Ties a child process this Node process started itself to its life, as the servers here are:
 * it gets `stopSignal` when this process exits, and from a run dir's watchdog should this process
 * be killed outright.
 */
export const stopWithThisProcess = (child: ChildProcess, stopSignal: NodeJS.Signals = 'SIGTERM'): void => {
  if (child.pid === undefined || hasExited(child)) return;
  const runDir = makeRunDir('galion-child-');
  const serverPath = join(runDir, serverFile);
  writeFileSync(serverPath, `${child.pid} ${stopSignal.replace(/^SIG/, '')}\n`);
  runningChildren.set(child, stopSignal);
  child.once('exit', () => {
    runningChildren.delete(child);
    rmSync(serverPath, { force: true });
  });
};

const couldNotRun = (spec: ProcessSpec, error: Error): Error =>
  new Error(`${spec.name}: could not run ${spec.command}: ${error.message}${spec.installHint ? `; ${spec.installHint}` : ''}`);

const spawnLogged = async (spec: ProcessSpec, stopSignal: NodeJS.Signals): Promise<ChildProcess> => {
  installExitHook();
  const logFd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      stdio: ['ignore', logFd, logFd],
      uid: spec.uid,
      gid: spec.gid,
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(logFd);
  }
  // A process that never started has no pid, and signalling it would signal our own process group.
  if (child.pid === undefined) throw couldNotRun(spec, await new Promise<Error>((resolve) => child.once('error', resolve)));
  runningChildren.set(child, stopSignal);
  child.once('exit', () => runningChildren.delete(child));
  return child;
};

/** Runs a command to completion; fails with the tail of its output when it exits non-zero. */
export const runToCompletion = async (spec: ProcessSpec): Promise<void> => {
  const offset = fileSize(spec.logFile);
  const child = await spawnLogged(spec, 'SIGTERM');
  await waitForExit(child);
  if (child.exitCode !== 0) {
    const status = child.exitCode ?? child.signalCode;
    throw new Error(`${spec.name} failed (exit ${status}); log ${spec.logFile}:\n${tail(readFrom(spec.logFile, offset))}`);
  }
};

export interface ServerProcess {
  /** False once the server has exited, whether stopped or crashed. */
  isRunning(): boolean;
  /** Sends the stop signal and waits for the exit, killing the server when that takes over 20 s. */
  stop(): Promise<void>;
  /**
   * SIGSTOP: the server keeps its port and open connections but answers nothing, as a hung server
   * or a partitioned network would (outage tests). `thaw()` (SIGCONT) lets it go on; `stop()` thaws first.
   */
  freeze(): void;
  thaw(): void;
}

const killAfterMs = 20_000;

/**
 * Starts a long-running server and resolves once `readyText` appears in its output (polled from the log
 * file, so Node never has to drain pipes). Fails with the log tail when the server exits or times out.
 */
export const startServerProcess = async (spec: ServerSpec): Promise<ServerProcess> => {
  const offset = fileSize(spec.logFile);
  const child = await spawnLogged(spec, spec.stopSignal);
  const serverPath = join(spec.runDir, serverFile);
  writeFileSync(serverPath, `${child.pid} ${spec.stopSignal.replace(/^SIG/, '')}\n`);
  child.once('exit', () => rmSync(serverPath, { force: true }));
  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    const output = readFrom(spec.logFile, offset);
    if (output.includes(spec.readyText)) break;
    if (hasExited(child)) {
      throw new Error(
        `${spec.name} exited before it was ready (${child.exitCode ?? child.signalCode}); log ${spec.logFile}:\n${tail(output)}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await waitForExit(child);
      throw new Error(`${spec.name} was not ready after ${spec.timeoutMs / 1000} s; log ${spec.logFile}:\n${tail(output)}`);
    }
    await sleep(100);
  }
  // A server left running must not keep the Node process (say, a jest worker) alive: it dies with it.
  child.unref();
  let frozen = false;
  const thaw = (): void => {
    if (frozen && !hasExited(child)) child.kill('SIGCONT');
    frozen = false;
  };
  const freeze = (): void => {
    if (hasExited(child)) return;
    child.kill('SIGSTOP');
    frozen = true;
  };
  const stop = async (): Promise<void> => {
    if (hasExited(child)) return;
    const exited = waitForExit(child);
    thaw();
    child.kill(spec.stopSignal);
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return { stop, freeze, thaw, isRunning: () => !hasExited(child) };
};
