import type { Mail } from '../src/domain/mailer';
import { newUser, outboxEvents, registerAndLogin, startAuth, type AuthHarness } from './harness';

const outbox: Mail[] = [];
let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth({ AUTH_LINK_BASE_URL: 'https://app.example.com', AUTH_RECOVERY_MAX_MAILS_PER_HOUR: '3' }, undefined, {
    mailer: { send: async (mail) => void outbox.push(mail) },
  });
});
afterAll(async () => {
  await h.close();
});

const tokenFrom = (mail: Mail) => new URL(mail.link).searchParams.get('token')!;
const mailsTo = (email: string) => outbox.filter((mail) => mail.to === email);

describe('password reset', () => {
  it('when a user forgets the password, then a mailed link resets it once and ends every session', async () => {
    const session = await registerAndLogin(h);
    const asked = await h.http.post('/api/v1/auth/password/forgot').send({ email: session.user.email.toUpperCase() }).expect(202);
    expect(asked.body.message).toMatch(/If an account exists/);
    const [mail] = mailsTo(session.user.email);
    expect(mail).toMatchObject({
      purpose: 'password_reset',
      link: expect.stringMatching(/^https:\/\/app\.example\.com\/reset-password\?token=/),
    });
    await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: tokenFrom(mail!), new_password: 'my brand new passphrase' })
      .expect(204);
    await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.accessToken}`).expect(401);
    await h.http.post('/api/v1/auth/refresh').send({ refresh_token: session.refreshToken }).expect(401);
    await h.http.post('/api/v1/auth/login').send({ email: session.user.email, password: 'my brand new passphrase' }).expect(200);
    const reused = await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: tokenFrom(mail!), new_password: 'another passphrase here' })
      .expect(400);
    expect(reused.body.error).toBe('reset_token_invalid');
    const events = await outboxEvents(h, session.id);
    expect(events.filter((event) => event.event_type === 'user.password_changed').map((event) => event.envelope.data)).toEqual([
      { reason: 'reset' },
    ]);
  });

  it('when the email has no account, then the answer is the same and no mail is sent', async () => {
    const before = outbox.length;
    const response = await h.http
      .post('/api/v1/auth/password/forgot')
      .send({ email: `nobody.${Date.now()}@example.com` })
      .expect(202);
    expect(response.body.message).toMatch(/If an account exists/);
    expect(outbox.length).toBe(before);
  });

  it('when a newer link is asked for, then the older one stops working', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    const [older, newer] = mailsTo(user.email);
    await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: tokenFrom(older!), new_password: 'passphrase number one' })
      .expect(400);
    await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: tokenFrom(newer!), new_password: 'passphrase number two' })
      .expect(204);
  });

  it('when the new password is weak or the token made up, then 400', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    const token = tokenFrom(mailsTo(user.email)[0]!);
    const weak = await h.http.post('/api/v1/auth/password/reset').send({ token, new_password: 'short' }).expect(400);
    expect(weak.body.details[0].path).toBe('body.new_password');
    await h.http.post('/api/v1/auth/password/reset').send({ token, new_password: 'strong enough passphrase' }).expect(204);
    expect(
      (await h.http.post('/api/v1/auth/password/reset').send({ token: 'made-up', new_password: 'strong enough passphrase' }).expect(400))
        .body.error,
    ).toBe('reset_token_invalid');
  });

  it('when an address is asked for too often, then mails stop but the answer stays the same', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    for (let i = 0; i < 5; i += 1) await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    expect(mailsTo(user.email)).toHaveLength(3);
  });

  it('when the token has expired, then 400 reset_token_invalid', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    await h.http.post('/api/v1/auth/password/forgot').send({ email: user.email }).expect(202);
    await h.db('one_time_tokens').update({ expires_at: new Date(Date.now() - 1000) });
    await h.http
      .post('/api/v1/auth/password/reset')
      .send({ token: tokenFrom(mailsTo(user.email)[0]!), new_password: 'strong enough passphrase' })
      .expect(400);
  });
});

describe('email verification', () => {
  it('when the mailed link is followed, then the email is verified once and an event is written', async () => {
    const session = await registerAndLogin(h);
    await h.http.post('/api/v1/auth/email/verify-request').set('Authorization', `Bearer ${session.accessToken}`).expect(202);
    const mail = mailsTo(session.user.email).find((sent) => sent.purpose === 'email_verification')!;
    expect(mail.link).toMatch(/^https:\/\/app\.example\.com\/verify-email\?token=/);
    await h.http
      .post('/api/v1/auth/email/verify')
      .send({ token: tokenFrom(mail) })
      .expect(204);
    const me = await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${session.accessToken}`).expect(200);
    expect(me.body.email_verified).toBe(true);
    expect(
      (
        await h.http
          .post('/api/v1/auth/email/verify')
          .send({ token: tokenFrom(mail) })
          .expect(400)
      ).body.error,
    ).toBe('verification_token_invalid');
    const again = await h.http.post('/api/v1/auth/email/verify-request').set('Authorization', `Bearer ${session.accessToken}`).expect(409);
    expect(again.body.error).toBe('email_already_verified');
    const events = await outboxEvents(h, session.id);
    expect(events.filter((event) => event.event_type === 'user.email_verified')).toHaveLength(1);
  });

  it('when asked without a token, then 401', async () => {
    await h.http.post('/api/v1/auth/email/verify-request').expect(401);
  });
});
