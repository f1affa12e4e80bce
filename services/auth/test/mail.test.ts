/**
 * Mail over SMTP to a real server (Mailpit): the mailed links work, the API answer never waits on
 * the mail server, and a send that fails is retried until the server is back, and counted.
 */
import { pollFor, startMailpit, type MailpitHandle, type ReceivedMail } from '@galion/localdeps';
import { newUser, registerAndLogin, startAuth, type AuthHarness } from './harness';

let mailpit: MailpitHandle;
let h: AuthHarness;

beforeAll(async () => {
  mailpit = await startMailpit();
  h = await startAuth({
    AUTH_SMTP_HOST: mailpit.smtp.host,
    AUTH_SMTP_PORT: String(mailpit.smtp.port),
    AUTH_SMTP_TLS: 'none',
    AUTH_SMTP_USER: 'galion',
    AUTH_SMTP_PASSWORD: 'relay-password',
    AUTH_MAIL_FROM: 'Galion <no-reply@galion.test>',
    AUTH_LINK_BASE_URL: 'https://app.example.com',
    // Retries 200 ms apart at first, so the outage test takes seconds.
    AUTH_MAIL_RETRY_BASE_MS: '200',
    AUTH_MAIL_RETRY_MAX_MS: '1000',
    AUTH_MAIL_MAX_ATTEMPTS: '20',
  });
});
afterAll(async () => {
  await h?.close();
  await mailpit?.stop();
});

const mailTo = (email: string, purpose: string): Promise<ReceivedMail> =>
  pollFor(`the ${purpose} mail to ${email}`, async () =>
    (await mailpit.messages()).find((m) => m.to.includes(email) && m.headers['X-Galion-Purpose']?.includes(purpose)),
  );
const linkIn = (mail: ReceivedMail): URL => new URL(/https:\/\/\S+/.exec(mail.text)![0]);
const metric = async (name: string): Promise<number> => {
  const text = await h.service.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('mail over SMTP', () => {
  it('when a user asks to verify the address, then the mail arrives from the configured sender and its link verifies it', async () => {
    const session = await registerAndLogin(h);

    await h.http.post('/api/v1/auth/email/verify-request').set('Authorization', `Bearer ${session.accessToken}`).expect(202);
    const mail = await mailTo(session.user.email, 'email_verification');
    const link = linkIn(mail);
    await h.http
      .post('/api/v1/auth/email/verify')
      .send({ token: link.searchParams.get('token') })
      .expect(204);

    expect(mail.from).toBe('no-reply@galion.test');
    expect(`${link.origin}${link.pathname}`).toBe('https://app.example.com/verify-email');
    const me = await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.accessToken}`).expect(200);
    expect(me.body.email_verified).toBe(true);
  });

  it('when a user forgets the password, then the reset mail arrives and its link sets a new one', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);

    await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    const link = linkIn(await mailTo(user.email, 'password_reset'));
    await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: link.searchParams.get('token'), new_password: 'a fresh passphrase here' })
      .expect(204);

    await h.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(401);
    await h.http.post('/api/v1/auth/login').send({ email: user.email, password: 'a fresh passphrase here' }).expect(200);
  });

  it('when the mail server is down, then the API still answers at once, and the mail is sent once the server is back, the failures counted', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    const [sentBefore, failuresBefore] = [await metric('mail_sent_total'), await metric('mail_send_failures_total')];
    await mailpit.stop();
    let answeredInMs = 0;
    try {
      const started = Date.now();
      await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
      answeredInMs = Date.now() - started;
      await pollFor(
        'two failed attempts',
        async () => ((await metric('mail_send_failures_total')) >= failuresBefore + 2 ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      expect(await metric('mail_queue_length')).toBe(1);
    } finally {
      await mailpit.start();
    }

    const mail = await mailTo(user.email, 'password_reset');
    expect(mail.subject).toMatch(/password/i);
    expect(answeredInMs).toBeLessThan(2_000);
    // Mailpit shows the mail once stored, a moment before the mailer reads its answer and counts it.
    await pollFor('the mail counted as sent', async () => ((await metric('mail_sent_total')) === sentBefore + 1 ? true : undefined), {
      timeoutMs: 5_000,
    });
    expect(await metric('mail_abandoned_total')).toBe(0);
    expect(await metric('mail_queue_length')).toBe(0);
  });
});
