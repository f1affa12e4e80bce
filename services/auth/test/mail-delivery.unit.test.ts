import { createLogger } from '@galion/kit';
import { pollFor } from '@galion/localdeps';
import { BackgroundMailer, retryDelayMs, type Mail, type Mailer } from '../src/domain/mailer';

const logger = createLogger({ service: 'auth', level: 'silent' });
const mail = (to = 'ada@example.com'): Mail => ({
  to,
  subject: 'Reset your password',
  text: 'open …',
  purpose: 'password_reset',
  link: 'https://x/reset-password?token=t',
});

/** A transport that fails its first `failures` sends, then accepts. */
const flakyTransport = (failures: number) => {
  const delivered: Mail[] = [];
  let attempts = 0;
  const transport: Mailer = {
    async send(m) {
      attempts += 1;
      if (attempts <= failures) throw new Error('421 try again later');
      delivered.push(m);
    },
  };
  return { transport, delivered, attempts: () => attempts };
};

const counting = () => {
  const counts = { sent: 0, attemptFailed: 0, abandoned: [] as string[], queueLength: [] as number[] };
  return {
    counts,
    counters: {
      sent: () => void counts.sent++,
      attemptFailed: () => void counts.attemptFailed++,
      abandoned: (reason: string) => void counts.abandoned.push(reason),
      queueLength: (length: number) => void counts.queueLength.push(length),
    },
  };
};

describe('retry delays', () => {
  test('when attempts fail one after another, then the wait doubles from the base up to the cap', () => {
    const options = { baseDelayMs: 1000, maxDelayMs: 5000 };
    const middle = () => 0.5;

    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, options, middle))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  test('when jitter is applied, then the wait stays within 20 % of the schedule', () => {
    const options = { baseDelayMs: 1000, maxDelayMs: 60_000 };

    expect([retryDelayMs(2, options, () => 0), retryDelayMs(2, options, () => 0.999999)]).toEqual([1600, 2400]);
  });
});

describe('background delivery', () => {
  test('when the transport fails twice, then the mail is sent on the third attempt and send() did not wait for any of it', async () => {
    const { transport, delivered } = flakyTransport(2);
    const { counts, counters } = counting();
    const mailer = new BackgroundMailer(transport, { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 20, maxQueued: 10, counters, logger });

    await mailer.send(mail());
    expect(delivered).toEqual([]);
    await pollFor('the delivery', () => (delivered.length === 1 ? true : undefined));

    expect(counts).toMatchObject({ sent: 1, attemptFailed: 2, abandoned: [] });
    expect(counts.queueLength.at(-1)).toBe(0);
  });

  test('when every attempt fails, then the mail is abandoned after the last one and counted', async () => {
    const { transport, attempts } = flakyTransport(Infinity);
    const { counts, counters } = counting();
    const mailer = new BackgroundMailer(transport, { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 5, maxQueued: 10, counters, logger });

    await mailer.send(mail());
    await pollFor('the mail to be given up', () => (counts.abandoned.length === 1 ? true : undefined));

    expect({
      attempts: attempts(),
      counts: { sent: counts.sent, attemptFailed: counts.attemptFailed, abandoned: counts.abandoned },
    }).toEqual({
      attempts: 3,
      counts: { sent: 0, attemptFailed: 3, abandoned: ['attempts'] },
    });
  });

  test('when the queue is full, then a further mail is abandoned at once as queue_full', async () => {
    const never: Mailer = { send: () => new Promise(() => undefined) };
    const { counts, counters } = counting();
    const mailer = new BackgroundMailer(never, { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 5, maxQueued: 2, counters, logger });

    for (const to of ['a@example.com', 'b@example.com', 'c@example.com']) await mailer.send(mail(to));

    expect(counts.abandoned).toEqual(['queue_full']);
    expect(counts.queueLength.at(-1)).toBe(2);
  });

  test('when it is closed while a mail waits for a retry, then close() returns without waiting out the backoff and the mail is counted as abandoned at shutdown', async () => {
    const { transport } = flakyTransport(Infinity);
    const { counts, counters } = counting();
    const mailer = new BackgroundMailer(transport, {
      maxAttempts: 10,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      maxQueued: 10,
      counters,
      logger,
    });
    await mailer.send(mail());
    await pollFor('the first failure', () => (counts.attemptFailed === 1 ? true : undefined));

    const started = Date.now();
    await mailer.close(2_000);
    await mailer.send(mail('late@example.com'));

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(counts.abandoned).toEqual(['shutdown', 'shutdown']);
  });
});
