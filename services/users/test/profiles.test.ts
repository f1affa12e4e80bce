import { eventually } from '@galion/localdeps';
import { bearer, newUser, profileArrives, startPlatform, type Platform } from './harness';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
});
afterAll(async () => {
  await p.close();
});

describe('GET /api/v1/users/me', () => {
  it('when a user registers, then the registration event creates the profile', async () => {
    const user = await newUser(p, { name: 'Grace Hopper' });
    await profileArrives(p, user.id);
    const response = await p.users.get('/api/v1/users/me').set(bearer(user.token)).expect(200);
    expect(response.body).toMatchObject({
      id: user.id,
      email: user.email,
      name: 'Grace Hopper',
      role: 'user',
      active: true,
      is_public: false,
      preferences: {},
    });
  });

  it('when there is no token, then 401 token_missing', async () => {
    expect((await p.users.get('/api/v1/users/me').expect(401)).body.error).toBe('token_missing');
  });
});

describe('GET /api/v1/users/me before the registration event', () => {
  it('when the event has not arrived, then the profile is created from auth on first access', async () => {
    const lonely = await startPlatform({ withEvents: false });
    try {
      const user = await newUser(lonely, { name: 'Early Bird' });
      expect(await lonely.usersDb('profiles').where({ id: user.id }).first()).toBeUndefined();
      const response = await lonely.users.get('/api/v1/users/me').set(bearer(user.token)).expect(200);
      expect(response.body).toMatchObject({ id: user.id, email: user.email, name: 'Early Bird' });
      expect(await lonely.usersDb('profiles').where({ id: user.id }).first()).toBeDefined();
    } finally {
      await lonely.close();
    }
  });
});

describe('PATCH /api/v1/users/me', () => {
  it('when valid fields are sent, then they are saved, the cache is refreshed and one user.updated event is written', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    await p.users.get('/api/v1/users/me').set(bearer(user.token)).expect(200);
    const patch = {
      name: 'New Name',
      bio: 'Hello',
      avatar_url: 'https://cdn.example.com/a.png',
      locale: 'pt-BR',
      timezone: 'Europe/Paris',
      preferences: { theme: 'dark' },
      is_public: true,
    };
    const updated = await p.users.patch('/api/v1/users/me').set(bearer(user.token)).send(patch).expect(200);
    expect(updated.body).toMatchObject(patch);
    const read = await p.users.get('/api/v1/users/me').set(bearer(user.token)).expect(200);
    expect(read.body.name).toBe('New Name');
    const events = await p.usersDb('outbox').where({ subject: user.id, event_type: 'user.updated' });
    expect(events).toHaveLength(1);
    expect(events[0].envelope.data.changes.sort()).toEqual(['avatar_url', 'bio', 'is_public', 'locale', 'name', 'preferences', 'timezone']);
  });

  it.each([
    ['an unknown field', { role: 'admin' }, 'body.role'],
    ['an http avatar', { avatar_url: 'http://example.com/a.png' }, 'body.avatar_url'],
    ['a made-up time zone', { timezone: 'Mars/Olympus' }, 'body.timezone'],
    ['a bad locale', { locale: 'english please' }, 'body.locale'],
    ['an empty name', { name: '   ' }, 'body.name'],
    ['a long bio', { bio: 'x'.repeat(1001) }, 'body.bio'],
    ['huge preferences', { preferences: { blob: 'x'.repeat(9000) } }, 'body.preferences'],
    ['preferences that are not an object', { preferences: [1, 2] }, 'body.preferences'],
    ['a wrong type', { is_public: 'yes' }, 'body.is_public'],
  ])('when the body has %s, then 400 naming it and nothing changes', async (_case, body, path) => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    const response = await p.users.patch('/api/v1/users/me').set(bearer(user.token)).send(body).expect(400);
    expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(path);
    const stored = await p.usersDb('profiles').where({ id: user.id }).first();
    expect(stored.name).toBe(user.name);
  });

  it('when the body is not JSON, then 415', async () => {
    const user = await newUser(p);
    await p.users.patch('/api/v1/users/me').set(bearer(user.token)).set('Content-Type', 'text/plain').send('name=x').expect(415);
  });
});

describe('GET /api/v1/users/{id}', () => {
  it('when a user reads someone else, then 404 unless the profile is public, and then only the public part', async () => {
    const [alice, bob] = [await newUser(p), await newUser(p)];
    await Promise.all([profileArrives(p, alice.id), profileArrives(p, bob.id)]);
    expect((await p.users.get(`/api/v1/users/${bob.id}`).set(bearer(alice.token)).expect(404)).body.error).toBe('user_not_found');
    await p.users.patch('/api/v1/users/me').set(bearer(bob.token)).send({ is_public: true, bio: 'hi' }).expect(200);
    const visible = await p.users.get(`/api/v1/users/${bob.id}`).set(bearer(alice.token)).expect(200);
    expect(visible.body).toEqual({ id: bob.id, name: bob.name, bio: 'hi', avatar_url: null, followers_count: 0, following_count: 0 });
    const self = await p.users.get(`/api/v1/users/${alice.id}`).set(bearer(alice.token)).expect(200);
    expect(self.body.email).toBe(alice.email);
  });

  it('when the id is not a UUID, then 400; when it does not exist, then 404', async () => {
    const user = await newUser(p);
    expect((await p.users.get('/api/v1/users/12345').set(bearer(user.token)).expect(400)).body.details[0].path).toBe('params.id');
    await p.users.get('/api/v1/users/00000000-0000-7000-8000-000000000000').set(bearer(user.token)).expect(404);
  });
});

describe('DELETE /api/v1/users/me', () => {
  it('when a user deletes themselves, then the profile goes, tokens stop working and auth removes the account', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    await p.users.delete('/api/v1/users/me').set(bearer(user.token)).expect(204);
    expect(await p.usersDb('profiles').where({ id: user.id }).first()).toBeUndefined();
    expect((await p.users.get('/api/v1/users/me').set(bearer(user.token)).expect(401)).body.error).toBe('token_revoked');
    expect((await p.auth.get('/api/v1/auth/me').set(bearer(user.token)).expect(401)).body.error).toBe('token_revoked');
    await p.auth.post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken }).expect(401);
    await eventually(
      async () => (await p.authDb('accounts').where({ id: user.id }).first()) === undefined,
      10_000,
      'account deletion in auth',
    );
    await p.auth.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(401);
    const deleted = await p.usersDb('outbox').where({ subject: user.id, event_type: 'user.deleted' });
    expect(deleted).toHaveLength(1);
  });

  it('when a registration event is replayed after deletion, then the profile does not come back', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    const registered = await p.authDb('outbox').where({ subject: user.id, event_type: 'user.registered' }).first();
    await p.users.delete('/api/v1/users/me').set(bearer(user.token)).expect(204);
    await p.bus.publish('user-events', [{ key: user.id, value: JSON.stringify(registered.envelope) }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await p.usersDb('profiles').where({ id: user.id }).first()).toBeUndefined();
  });
});
