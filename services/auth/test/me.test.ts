import { createEvent, type EventEnvelope } from '@galion/events';
import type { Mail } from '../src/domain/mailer';
import { registerAndLogin, startAuth, type AuthHarness } from './harness';

const outbox: Mail[] = [];
let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth({}, undefined, { mailer: { send: async (mail) => void outbox.push(mail) } });
});
afterAll(async () => {
  await h.close();
});

const me = (token: string) => h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

/** A user who registered, logged in and confirmed the address: nothing /me shows can change any more. */
const verifiedUser = async () => {
  const session = await registerAndLogin(h);
  await h.http.post('/api/v1/auth/email/verify-request').set('Authorization', `Bearer ${session.accessToken}`).expect(202);
  const mail = outbox.find((sent) => sent.to === session.user.email && sent.purpose === 'email_verification')!;
  await h.http
    .post('/api/v1/auth/email/verify')
    .send({ token: new URL(mail.link).searchParams.get('token') })
    .expect(204);
  return session;
};

/** Applies an event of the users service as auth's consumer does: in a transaction, then the steps after its commit. */
const apply = async (event: EventEnvelope) => {
  const afterCommit = await h.db.transaction((trx) => h.service.auth.applyUserEvent(event, trx));
  await afterCommit?.();
};

describe('GET /me', () => {
  it('when a verified account is read again, then it is answered from memory, not from the database', async () => {
    const session = await verifiedUser();
    expect((await me(session.accessToken).expect(200)).body).toMatchObject({ id: session.id, email_verified: true });

    // Auth never renames an account; a name changed behind its back shows the database was not read.
    await h.db('accounts').where({ id: session.id }).update({ name: 'Changed Behind Its Back' });

    expect((await me(session.accessToken).expect(200)).body.name).toBe(session.user.name);
  });

  it('when the address is not verified yet, then every read goes to the database', async () => {
    const session = await registerAndLogin(h);
    await me(session.accessToken).expect(200);

    await h.db('accounts').where({ id: session.id }).update({ name: 'Read Again' });

    expect((await me(session.accessToken).expect(200)).body).toMatchObject({ name: 'Read Again', email_verified: false });
  });

  it('when a token of an account answered from memory is revoked, then the next read is refused all the same', async () => {
    const session = await verifiedUser();
    await me(session.accessToken).expect(200);

    await h.http.post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.accessToken}`).send({}).expect(204);

    expect((await me(session.accessToken).expect(401)).body.error).toBe('token_revoked');
  });

  it('when an account answered from memory is deleted or disabled, then it stops answering', async () => {
    const deleted = await verifiedUser();
    const disabled = await verifiedUser();
    await me(deleted.accessToken).expect(200);
    await me(disabled.accessToken).expect(200);

    // The users service's events alone, without the revocation it also writes: the kept views go with them.
    await apply(createEvent('user.deleted', { source: 'users', subject: deleted.id, data: { deleted_by: deleted.id } }));
    await apply(createEvent('user.updated', { source: 'users', subject: disabled.id, data: { changes: ['active'], active: false } }));

    expect((await me(deleted.accessToken).expect(404)).body.error).toBe('account_not_found');
    expect((await me(disabled.accessToken).expect(404)).body.error).toBe('account_not_found');
  });
});
