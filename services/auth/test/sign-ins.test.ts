import { randomUUID } from 'node:crypto';
import { createEvent } from '@galion/events';
import { SignInRepository, type SignIn } from '../src/repositories/sign-ins';
import { newUser, outboxEvents, startAuth, type AuthHarness } from './harness';

let h: AuthHarness;
let signIns: SignInRepository;
beforeAll(async () => {
  h = await startAuth();
  signIns = new SignInRepository(h.db);
});
afterAll(() => h.close());

const registered = async (): Promise<string> => (await h.http.post('/api/v1/auth/register').send(newUser()).expect(201)).body.id as string;

const aSignIn = (accountId: string, at = new Date()): SignIn => ({
  accountId,
  at,
  session: { id: randomUUID(), familyId: randomUUID(), tokenHash: `hash-${randomUUID()}`, expiresAt: new Date(at.getTime() + 86_400_000) },
  events: [createEvent('user.logged_in', { source: 'auth', subject: accountId, data: { ip: '198.51.100.7' }, time: at })],
});

const sessionsOf = (accountId: string) => h.db('refresh_tokens').where({ account_id: accountId }).select('id', 'family_id', 'token_hash');

describe('a login written in one statement', () => {
  it('when the account is active, then its last login, its session and its event are all stored', async () => {
    const id = await registered();
    const signIn = aSignIn(id, new Date('2026-11-30T12:00:00.000Z'));

    const recorded = await signIns.record(signIn);

    expect(recorded).toBe(true);
    const account = await h.db('accounts').where({ id }).first();
    expect(account.last_login_at.toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(await sessionsOf(id)).toEqual([{ id: signIn.session.id, family_id: signIn.session.familyId, token_hash: signIn.session.tokenHash }]);
    const events = await outboxEvents(h, id);
    expect(events.map((event) => event.event_type)).toEqual(['user.registered', 'user.logged_in']);
    expect(events[1]!.envelope).toMatchObject({ id: signIn.events[0]!.id, data: { ip: '198.51.100.7' } });
  });

  it('when the account was disabled while its password was checked, then nothing is written and the login is refused', async () => {
    const id = await registered();
    const before = await h.db('accounts').where({ id }).first();
    await h.db('accounts').where({ id }).update({ status: 'disabled' });

    const recorded = await signIns.record({ ...aSignIn(id), rehash: '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA' });

    expect(recorded).toBe(false);
    const after = await h.db('accounts').where({ id }).first();
    expect(after.last_login_at).toEqual(before.last_login_at);
    expect(after.password_hash).toBe(before.password_hash);
    expect(await sessionsOf(id)).toEqual([]);
    expect((await outboxEvents(h, id)).map((event) => event.event_type)).toEqual(['user.registered']);
  });

  it('when the account was deleted meanwhile, then nothing is written and the login is refused', async () => {
    const id = await registered();
    await h.db('accounts').where({ id }).delete();

    expect(await signIns.record(aSignIn(id))).toBe(false);
    expect(await sessionsOf(id)).toEqual([]);
    expect((await outboxEvents(h, id)).map((event) => event.event_type)).toEqual(['user.registered']);
  });

  it('when the stored hash was made at an older cost, then the new one replaces it in the same statement', async () => {
    const id = await registered();
    const rehash = '$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

    expect(await signIns.record({ ...aSignIn(id), rehash })).toBe(true);
    expect((await h.db('accounts').where({ id }).first()).password_hash).toBe(rehash);
  });
});
