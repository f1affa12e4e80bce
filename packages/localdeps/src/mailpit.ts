import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { makeRunDir, startServerProcess, type ServerProcess } from './processes';

export interface MailpitOptions {
  /** Address of both listeners, 127.0.0.1 by default. */
  host?: string;
  /** Keeps the messages in this folder across restarts (default: a temp dir, removed at exit). */
  dataDir?: string;
}

/** A message as Mailpit stores it, with its plain-text body. */
export interface ReceivedMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string[]>;
}

export interface MailpitHandle {
  smtp: { host: string; port: number };
  /** The web page and HTTP API, where a developer reads the mail. */
  webUrl: string;
  /** Every message received so far, newest first, with its text. */
  messages(): Promise<ReceivedMail[]>;
  /** Deletes every message. */
  clear(): Promise<void>;
  stop(): Promise<void>;
  /** Starts again after `stop()` on the same ports with the same messages (for outage tests). */
  start(): Promise<void>;
}

const installHint = 'run scripts/install-deps.sh (it builds Mailpit with scripts/install-mailpit.sh)';

const mailpitPath = (): string => join(process.env.GALION_CACHE_DIR || join(homedir(), '.cache', 'galion'), 'mail', 'bin', 'mailpit');

/** Whether scripts/install-mailpit.sh has built Mailpit on this machine. */
export const mailpitAvailable = (): boolean => existsSync(mailpitPath());

const mailpitBinary = (): string => {
  if (!mailpitAvailable()) throw new Error(`Mailpit is missing from ${mailpitPath()}: ${installHint}`);
  return mailpitPath();
};

interface MailpitAddress {
  Name: string;
  Address: string;
}

/**
 * Starts Mailpit, a real SMTP server that keeps every message, on free ports: SMTP (any login
 * accepted, no TLS) and its web page with the HTTP API. Its database and log are in a temp dir
 * removed when the Node process ends.
 */
export const startMailpit = async (options: MailpitOptions = {}): Promise<MailpitHandle> => {
  const binary = mailpitBinary();
  const host = options.host ?? '127.0.0.1';
  const [smtpPort, webPort] = [await freePort(), await freePort()];
  const runDir = makeRunDir('galion-mailpit-');
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const webUrl = `http://${host}:${webPort}`;

  let server: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    if (server?.isRunning()) return;
    server = await startServerProcess({
      name: 'Mailpit',
      command: binary,
      args: [
        '--smtp', `${host}:${smtpPort}`,
        '--listen', `${host}:${webPort}`,
        '--database', join(options.dataDir ?? runDir, 'mailpit.db'),
        '--smtp-auth-accept-any',
        '--smtp-auth-allow-insecure',
        // No call to GitHub for a newer release: nothing leaves the machine.
        '--disable-version-check',
      ],
      logFile: join(runDir, 'mailpit.log'),
      cwd: runDir,
      readyText: '[http] accessible via',
      timeoutMs: 30_000,
      stopSignal: 'SIGTERM',
      installHint,
      runDir,
    });
  };
  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };

  await start();
  return { smtp: { host, port: smtpPort }, webUrl, ...mailpitClient(webUrl), stop, start };
};

/** Reads the mail of a Mailpit at `webUrl` through its HTTP API (one this process started, or `npm start`'s). */
export const mailpitClient = (webUrl: string): Pick<MailpitHandle, 'messages' | 'clear'> => {
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${webUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`Mailpit ${path} answered ${response.status}`);
    return (response.headers.get('content-type') ?? '').includes('json') ? ((await response.json()) as T) : (undefined as T);
  };
  const messages = async (): Promise<ReceivedMail[]> => {
    const list = await api<{ messages: { ID: string }[] }>('/api/v1/messages?limit=500');
    return Promise.all(
      list.messages.map(async ({ ID }) => {
        const message = await api<{ ID: string; From: MailpitAddress; To: MailpitAddress[]; Subject: string; Text: string }>(`/api/v1/message/${ID}`);
        const headers = await api<Record<string, string[]>>(`/api/v1/message/${ID}/headers`);
        return {
          id: message.ID,
          from: message.From.Address,
          to: message.To.map((to) => to.Address),
          subject: message.Subject,
          text: message.Text,
          headers,
        };
      }),
    );
  };
  return { messages, clear: () => api<void>('/api/v1/messages', { method: 'DELETE' }) };
};
