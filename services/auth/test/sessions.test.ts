import { setTimeout as sleep } from 'node:timers/promises';
import { startAuth, registerAndLogin, outboxEvents, type AuthHarness } from './harness';

let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth({ AUTH_REFRESH_REUSE_GRACE_SECONDS: '2' });
});
afterAll(async () => {
  await h.close();
});

const refresh = (token: string) => h.http.post('/api/v1/auth/refresh').send({ refresh_token: token });
const me = (token: string) => h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

describe('POST /api/v1/auth/refresh', () => {
  it('when a refresh token is used, then a new pair is issued and the old token is rotated out', async () => {
    const session = await registerAndLogin(h);
    const rotated = await refresh(session.refreshToken).expect(200);
    expect(rotated.body.refresh_token).not.toBe(session.refreshToken);
    await me(rotated.body.access_token).expect(200);
    const next = await refresh(rotated.body.refresh_token).expect(200);
    expect(next.body.refresh_token).not.toBe(rotated.body.refresh_token);
  });

  it('when the old token is reused inside the grace window, then the same new refresh token comes back', async () => {
    const session = await registerAndLogin(h);
    const first = await refresh(session.refreshToken).expect(200);
    const secondTab = await refresh(session.refreshToken).expect(200);
    expect(secondTab.body.refresh_token).toBe(first.body.refresh_token);
    await me(secondTab.body.access_token).expect(200);
  });

  it('when the old token is reused after the grace window, then the whole family is revoked', async () => {
    const session = await registerAndLogin(h);
    const first = await refresh(session.refreshToken).expect(200);
    await sleep(2_300);
    const reuse = await refresh(session.refreshToken).expect(401);
    expect(reuse.body.error).toBe('refresh_token_reused');
    const thief = await refresh(first.body.refresh_token).expect(401);
    expect(thief.body.error).toBe('refresh_token_revoked');
  });

  it('when the token is unknown, missing or malformed, then 401 or 400', async () => {
    expect((await refresh('x'.repeat(43)).expect(401)).body.error).toBe('refresh_token_invalid');
    expect((await h.http.post('/api/v1/auth/refresh').send({}).expect(401)).body.error).toBe('refresh_token_missing');
    await h.http.post('/api/v1/auth/refresh').send({ refresh_token: 12 }).expect(400);
  });

  it('when the refresh token has expired, then 401 refresh_token_expired', async () => {
    const session = await registerAndLogin(h);
    await h
      .db('refresh_tokens')
      .where({ account_id: session.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect((await refresh(session.refreshToken).expect(401)).body.error).toBe('refresh_token_expired');
  });
});

describe('POST /api/v1/auth/logout', () => {
  it('when a user logs out, then the access token is refused at once and the refresh token is dead', async () => {
    const session = await registerAndLogin(h);
    await me(session.accessToken).expect(200);
    await h.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.accessToken}`).send({}).expect(204);
    const refused = await me(session.accessToken).expect(401);
    expect(refused.body.error).toBe('token_revoked');
    expect(refused.headers['www-authenticate']).toContain('invalid_token');
    expect((await refresh(session.refreshToken).expect(401)).body.error).toBe('refresh_token_revoked');
    const events = await outboxEvents(h, session.id);
    expect(events.filter((event) => event.event_type === 'user.logged_out')).toHaveLength(1);
  });

  it('when all_sessions is asked, then every session of the user ends', async () => {
    const first = await registerAndLogin(h);
    const second = await h.http.post('/api/v1/auth/login').send({ email: first.user.email, password: first.user.password }).expect(200);
    await h.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${first.accessToken}`).send({ all_sessions: true }).expect(204);
    await me(second.body.access_token).expect(401);
    await refresh(second.body.refresh_token).expect(401);
  });

  it('when there is no token, then 401 token_missing with a Bearer challenge', async () => {
    const response = await h.http.post('/api/v1/auth/logout').send({}).expect(401);
    expect(response.body.error).toBe('token_missing');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="galion"');
  });
});

describe('POST /api/v1/auth/password', () => {
  it('when the current password is right, then the password changes, sessions end and one event is written', async () => {
    const session = await registerAndLogin(h);
    await h.http
      .post('/api/v1/auth/password')
      .set('Authorization', `Bearer ${session.accessToken}`)
      .send({ current_password: session.user.password, new_password: 'a brand new passphrase' })
      .expect(204);
    await refresh(session.refreshToken).expect(401);
    await me(session.accessToken).expect(401);
    await h.http.post('/api/v1/auth/login').send({ email: session.user.email, password: session.user.password }).expect(401);
    await h.http.post('/api/v1/auth/login').send({ email: session.user.email, password: 'a brand new passphrase' }).expect(200);
    const events = await outboxEvents(h, session.id);
    expect(events.filter((event) => event.event_type === 'user.password_changed')).toHaveLength(1);
  });

  it('when the current password is wrong, then 401 and nothing changes', async () => {
    const session = await registerAndLogin(h);
    await h.http
      .post('/api/v1/auth/password')
      .set('Authorization', `Bearer ${session.accessToken}`)
      .send({ current_password: 'not it at all', new_password: 'a brand new passphrase' })
      .expect(401);
    await me(session.accessToken).expect(200);
    const events = await outboxEvents(h, session.id);
    expect(events.filter((event) => event.event_type === 'user.password_changed')).toHaveLength(0);
  });
});
