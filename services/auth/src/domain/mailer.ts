import type { Logger } from '@galion/kit';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for, so a mail service can pick its template. */
  purpose: 'password_reset' | 'email_verification';
  /** The link the user follows; it carries the one-time token. */
  link: string;
}

/** Hands mail to whatever sends it. Galion does not speak SMTP itself. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
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

/** For local runs without a mail service: writes the link to the log so a developer can follow it. */
export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}

  async send(mail: Mail): Promise<void> {
    this.logger.warn({ to: mail.to, purpose: mail.purpose, link: mail.link }, `mail not sent (no AUTH_MAIL_WEBHOOK_URL): ${mail.subject}`);
  }
}
