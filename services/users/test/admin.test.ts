import { eventually } from '@galion/localdeps';
import { bearer, loginAdmin, newUser, profileArrives, startPlatform, type Platform } from './harness';

let p: Platform;
let adminToken: string;
let adminId: string;
beforeAll(async () => {
  p = await startPlatform();
  adminToken = await loginAdmin(p);
  adminId = (await p.auth.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200)).body.id;
  await profileArrives(p, adminId);
});
afterAll(async () => {
  await p.close();
});

describe('GET /api/v1/users (admin search)', () => {
  it('when a non-admin searches, then 403', async () => {
    const user = await newUser(p);
    expect((await p.users.get('/api/v1/users').set(bearer(user.token)).expect(403)).body.error).toBe('forbidden');
  });

  it('when paging through everyone with a small limit, then every user appears exactly once, in order', async () => {
    const made = [];
    for (let i = 0; i < 23; i += 1) made.push(await newUser(p, { name: `Pager ${String(i).padStart(2, '0')}` }));
    await Promise.all(made.map((user) => profileArrives(p, user.id)));
    for (const sort of ['created_at', 'name', 'email']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await p.users
          .get('/api/v1/users')
          .query({ q: 'pager', limit: 4, sort, order: 'asc', ...(cursor ? { cursor } : {}) })
          .set(bearer(adminToken))
          .expect(200);
        seen.push(...page.body.items.map((item) => item.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
      if (sort === 'name') expect(seen).toEqual(made.map((user) => user.id));
    }
  });

  it('when filtering by role and status and prefix, then only matching users come back', async () => {
    const target = await newUser(p, { name: 'Zebedee Filter' });
    await profileArrives(p, target.id);
    const byPrefix = await p.users.get('/api/v1/users').query({ q: 'zebedee' }).set(bearer(adminToken)).expect(200);
    expect(byPrefix.body.items.map((item: { id: string }) => item.id)).toEqual([target.id]);
    const admins = await p.users.get('/api/v1/users').query({ role: 'admin' }).set(bearer(adminToken)).expect(200);
    expect(admins.body.items.every((item: { role: string }) => item.role === 'admin')).toBe(true);
    const inactive = await p.users.get('/api/v1/users').query({ status: 'inactive' }).set(bearer(adminToken)).expect(200);
    expect(inactive.body.items.every((item: { active: boolean }) => !item.active)).toBe(true);
    const wildcard = await p.users.get('/api/v1/users').query({ q: '%' }).set(bearer(adminToken)).expect(200);
    expect(wildcard.body.items).toEqual([]);
  });

  it.each([
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: 'ten' }, 'query.limit'],
    [{ sort: 'password' }, 'query.sort'],
    [{ role: 'root' }, 'query.role'],
    [{ status: 'sleeping' }, 'query.status'],
    [{ colour: 'blue' }, 'query.colour'],
  ])('when the query is %j, then 400 naming %s', async (query, path) => {
    const response = await p.users.get('/api/v1/users').query(query).set(bearer(adminToken)).expect(400);
    expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('when a cursor of the name order is reused with sort=created_at, then 400 invalid_cursor, not a failed query', async () => {
    await newUser(p);
    await newUser(p);
    const byName = await p.users.get('/api/v1/users').query({ sort: 'name', limit: 1 }).set(bearer(adminToken)).expect(200);

    const reused = await p.users
      .get('/api/v1/users')
      .query({ sort: 'created_at', cursor: byName.body.next_cursor })
      .set(bearer(adminToken))
      .expect(400);

    expect(reused.body.error).toBe('invalid_cursor');
  });

  it('when the cursor is forged, then 400 invalid_cursor', async () => {
    expect((await p.users.get('/api/v1/users').query({ cursor: 'bm90LWEtY3Vyc29y' }).set(bearer(adminToken)).expect(400)).body.error).toBe(
      'invalid_cursor',
    );
  });
});

describe('PATCH /api/v1/users/{id} (admin)', () => {
  it('when an admin deactivates a user, then the user is locked out of both services and auth disables the account', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    const response = await p.users.patch(`/api/v1/users/${user.id}`).set(bearer(adminToken)).send({ active: false }).expect(200);
    expect(response.body.active).toBe(false);
    await p.users.get('/api/v1/users/me').set(bearer(user.token)).expect(401);
    await p.auth.post('/api/v1/auth/refresh').send({ refresh_token: user.refreshToken }).expect(401);
    await eventually(
      async () => (await p.authDb('accounts').where({ id: user.id }).first()).status === 'disabled',
      10_000,
      'account disabled in auth',
    );
    await p.auth.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(401);
    const events = await p.usersDb('outbox').where({ subject: user.id, event_type: 'user.updated' });
    expect(events[0].envelope.data).toMatchObject({ changes: ['active'], active: false });
  });

  it('when an admin promotes a user, then auth issues admin tokens at the next login', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    await p.users.patch(`/api/v1/users/${user.id}`).set(bearer(adminToken)).send({ role: 'admin' }).expect(200);
    await eventually(async () => (await p.authDb('accounts').where({ id: user.id }).first()).role === 'admin', 10_000, 'role in auth');
    const login = await p.auth.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
    await p.users.get('/api/v1/users').set(bearer(login.body.access_token)).expect(200);
  });

  it('when the last admin would be demoted or deleted, then 409 last_admin', async () => {
    const solo = await startPlatform();
    try {
      const token = await loginAdmin(solo);
      const id = (await solo.auth.get('/api/v1/auth/me').set(bearer(token)).expect(200)).body.id;
      await profileArrives(solo, id);
      expect((await solo.users.patch(`/api/v1/users/${id}`).set(bearer(token)).send({ role: 'user' }).expect(409)).body.error).toBe(
        'last_admin',
      );
      await solo.users.patch(`/api/v1/users/${id}`).set(bearer(token)).send({ active: false }).expect(409);
      await solo.users.delete('/api/v1/users/me').set(bearer(token)).expect(409);
      expect((await solo.usersDb('profiles').where({ id }).first()).role).toBe('admin');
    } finally {
      await solo.close();
    }
  });

  it('when a user tries an admin change, then 403; when the body is empty, then 400', async () => {
    const user = await newUser(p);
    await profileArrives(p, user.id);
    await p.users.patch(`/api/v1/users/${user.id}`).set(bearer(user.token)).send({ role: 'admin' }).expect(403);
    await p.users.patch(`/api/v1/users/${user.id}`).set(bearer(adminToken)).send({}).expect(400);
    await p.users.patch(`/api/v1/users/${user.id}`).set(bearer(adminToken)).send({ role: 'superuser' }).expect(400);
  });

  it('when an admin deletes another user, then 204; a user deleting another gets 404', async () => {
    const [victim, other] = [await newUser(p), await newUser(p)];
    await Promise.all([profileArrives(p, victim.id), profileArrives(p, other.id)]);
    await p.users.delete(`/api/v1/users/${victim.id}`).set(bearer(other.token)).expect(404);
    await p.users.delete(`/api/v1/users/${victim.id}`).set(bearer(adminToken)).expect(204);
    await p.users.get(`/api/v1/users/${victim.id}`).set(bearer(adminToken)).expect(404);
  });
});
