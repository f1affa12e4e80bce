import type { Logger } from '@galion/kit';
import { createTransport, type Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for, so a mail service can pick its template. */
  purpose: 'password_reset' | 'email_verification';
  /** The link the user follows; it carries the one-time token. */
  link: string;
}

/** Hands mail to whatever sends it. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Stops taking mail and lets what is under way finish (bounded). */
  close?(): Promise<void>;
}

/** POSTs each mail as JSON to a webhook (the application's mail service). */
export class WebhookMailer implements Mailer {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async send(mail: Mail): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(mail),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`mail webhook answered HTTP ${response.status}`);
  }
}

export type SmtpTls = 'starttls' | 'tls' | 'none';

export interface SmtpSettings {
  host: string;
  port: number;
  /** starttls: upgrade required (port 587); tls: TLS from the first byte (465); none: plain (a local relay). */
  tls: SmtpTls;
  user?: string;
  password?: string;
  /** The From header: an address, or `Name <address>`. */
  from: string;
  timeoutMs?: number;
}

/** Sends each mail over SMTP (nodemailer), with a pool of connections to the relay. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    const timeout = settings.timeoutMs ?? 10_000;
    this.transport = createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.tls === 'tls',
      requireTLS: settings.tls === 'starttls',
      ignoreTLS: settings.tls === 'none',
      auth: settings.user ? { user: settings.user, pass: settings.password ?? '' } : undefined,
      pool: true,
      maxConnections: 2,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail({
      from: this.settings.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      headers: { 'X-Galion-Purpose': mail.purpose },
    });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** For local runs without a mail service: writes the link to the log so a developer can follow it. */
export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}

  async send(mail: Mail): Promise<void> {
    this.logger.warn({ to: mail.to, purpose: mail.purpose, link: mail.link }, `mail not sent (no SMTP server or webhook configured): ${mail.subject}`);
  }
}

export interface DeliveryCounters {
  sent(): void;
  /** One attempt failed (it may be retried). */
  attemptFailed(): void;
  /** Every attempt failed, or the queue was full: the mail is not sent. */
  abandoned(reason: 'attempts' | 'queue_full' | 'shutdown'): void;
  queueLength(length: number): void;
}

export interface DeliveryOptions {
  maxAttempts: number;
  /** Wait before the second attempt; it doubles for each next one, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Mails waiting or under way at most; more are abandoned (and counted). */
  maxQueued: number;
  counters: DeliveryCounters;
  logger: Logger;
}

/** The wait before attempt `attempt + 1` after `attempt` failed: doubling, capped, with ±20 % jitter. */
export const retryDelayMs = (attempt: number, options: Pick<DeliveryOptions, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number => {
  const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
};

/**
 * Delivers mail in the background, so that an API answer never waits on the mail server, and
 * retries a failed send with exponential backoff. The queue is in memory on purpose: the mails
 * carry one-time tokens in clear, which Galion stores only hashed. A mail still waiting when the
 * process stops is lost (counted); the user asks for a new link.
 */
export class BackgroundMailer implements Mailer {
  private queued = 0;
  private closing = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly transport: Mailer,
    private readonly options: DeliveryOptions,
  ) {}

  async send(mail: Mail): Promise<void> {
    if (this.closing) {
      this.options.counters.abandoned('shutdown');
      return;
    }
    if (this.queued >= this.options.maxQueued) {
      this.options.counters.abandoned('queue_full');
      this.options.logger.error({ purpose: mail.purpose, queued: this.queued }, 'mail queue full: mail not sent');
      return;
    }
    this.queued += 1;
    this.options.counters.queueLength(this.queued);
    const delivery = this.deliver(mail).finally(() => {
      this.queued -= 1;
      this.options.counters.queueLength(this.queued);
      this.inFlight.delete(delivery);
    });
    this.inFlight.add(delivery);
  }

  /** Waits for the mails under way, at most `graceMs`; those still waiting for a retry are abandoned. */
  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    for (const wake of this.wakers) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.transport.close?.();
  }

  private async deliver(mail: Mail): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transport.send(mail);
        this.options.counters.sent();
        return;
      } catch (error) {
        this.options.counters.attemptFailed();
        const last = attempt >= this.options.maxAttempts || this.closing;
        this.options.logger.warn({ err: error, purpose: mail.purpose, attempt, will_retry: !last }, 'sending mail failed');
        if (last) {
          this.options.counters.abandoned(this.closing ? 'shutdown' : 'attempts');
          this.options.logger.error({ purpose: mail.purpose, attempts: attempt }, 'mail not sent: every attempt failed');
          return;
        }
        await this.sleep(retryDelayMs(attempt, this.options));
      }
    }
  }

  /** A wait that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
