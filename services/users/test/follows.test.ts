import { bearer, loginAdmin, newUser, profileArrives, startPlatform, type Platform } from './harness';

type User = Awaited<ReturnType<typeof newUser>>;
interface Entry {
  id: string;
  name: string | null;
  avatar_url: string | null;
  followed_at: string;
}

let p: Platform;
let adminToken: string;
beforeAll(async () => {
  p = await startPlatform();
  adminToken = await loginAdmin(p);
  await profileArrives(p, (await p.auth.get('/api/v1/auth/me').set(bearer(adminToken)).expect(200)).body.id);
});
afterAll(async () => {
  await p.close();
});

/** `count` new users whose profiles have arrived, registered a few at a time. */
const users = async (count: number): Promise<User[]> => {
  const made: User[] = [];
  while (made.length < count) {
    made.push(...(await Promise.all(Array.from({ length: Math.min(5, count - made.length) }, () => newUser(p)))));
  }
  await Promise.all(made.map((user) => profileArrives(p, user.id)));
  return made;
};

const follow = (who: User, whom: { id: string }) => p.users.put(`/api/v1/users/${whom.id}/follow`).set(bearer(who.token));
const unfollow = (who: User, whom: { id: string }) => p.users.delete(`/api/v1/users/${whom.id}/follow`).set(bearer(who.token));
const makePublic = (user: User) => p.users.patch('/api/v1/users/me').set(bearer(user.token)).send({ is_public: true }).expect(200);
const rows = (follower: { id: string }, followee: { id: string }) =>
  p.usersDb('follows').where({ follower_id: follower.id, followee_id: followee.id });
const events = (type: 'user.followed' | 'user.unfollowed', follower: { id: string }) =>
  p.usersDb('outbox').where({ subject: follower.id, event_type: type }).orderBy('position');

/** Every page of a list, following next_cursor, with `between` run before each next page. */
const allPages = async (path: string, token: string, limit: number, between: (page: number) => Promise<void> = async () => {}) => {
  const pages: Entry[][] = [];
  let cursor: string | null = null;
  do {
    const response: { body: { items: Entry[]; next_cursor: string | null } } = await p.users
      .get(path)
      .query({ limit, ...(cursor ? { cursor } : {}) })
      .set(bearer(token))
      .expect(200);
    pages.push(response.body.items);
    cursor = response.body.next_cursor;
    if (cursor) await between(pages.length);
  } while (cursor);
  return pages;
};

describe('PUT /api/v1/users/{id}/follow', () => {
  it('when a user follows another, then 200 with the follow, one row and one user.followed event from the follower', async () => {
    const [alice, bob] = await users(2);

    const response = await follow(alice, bob).expect(200);

    expect(response.body).toEqual({ follower_id: alice.id, followee_id: bob.id, followed_at: expect.any(String) });
    expect(await rows(alice, bob)).toHaveLength(1);
    const published = await events('user.followed', alice);
    expect(published).toHaveLength(1);
    expect(published[0].envelope).toMatchObject({ source: 'users', subject: alice.id, data: { followee_id: bob.id } });
    const state = await p.users.get(`/api/v1/users/${bob.id}/follow`).set(bearer(alice.token)).expect(200);
    expect(state.body).toEqual(response.body);
  });

  it('when the same follow is asked twice, or five times at once, then each answers 200 with the first follow: one row, one event', async () => {
    const [alice, bob, carol] = await users(3);

    const first = await follow(alice, bob).expect(200);
    const second = await follow(alice, bob).expect(200);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => follow(carol, bob)));

    expect(second.body).toEqual(first.body);
    expect(await rows(alice, bob)).toHaveLength(1);
    expect(await events('user.followed', alice)).toHaveLength(1);
    expect(concurrent.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(concurrent.map((answer) => answer.body.followed_at)).size).toBe(1);
    expect(await rows(carol, bob)).toHaveLength(1);
    expect(await events('user.followed', carol)).toHaveLength(1);
  });

  it('when a user follows a private profile, then it is allowed: following is about published posts, which are public', async () => {
    const [alice, bob] = await users(2);
    await p.users.get(`/api/v1/users/${bob.id}`).set(bearer(alice.token)).expect(404);
    await follow(alice, bob).expect(200);
  });

  it('when a user follows themself, then 409 cannot_follow_self and nothing is stored', async () => {
    const [alice] = await users(1);
    expect((await follow(alice, alice).expect(409)).body.error).toBe('cannot_follow_self');
    expect(await rows(alice, alice)).toHaveLength(0);
    expect(await events('user.followed', alice)).toHaveLength(0);
  });

  it('when the user is unknown, deleted or deactivated, then the same 404 user_not_found, and nothing is stored', async () => {
    const [alice, gone, resting] = await users(3);
    await p.users.delete('/api/v1/users/me').set(bearer(gone.token)).expect(204);
    await p.users.patch(`/api/v1/users/${resting.id}`).set(bearer(adminToken)).send({ active: false }).expect(200);

    const answers = await Promise.all(
      [{ id: '00000000-0000-7000-8000-000000000000' }, gone, resting].map(async (whom) => (await follow(alice, whom).expect(404)).body),
    );

    expect(answers.map((body) => [body.error, body.message])).toEqual(Array(3).fill(['user_not_found', 'No such user.']));
    expect(await p.usersDb('follows').where({ follower_id: alice.id })).toHaveLength(0);
    expect(await events('user.followed', alice)).toHaveLength(0);
  });

  it('when the id is not a UUID, then 400 naming params.id; without a token, then 401 token_missing', async () => {
    const [alice, bob] = await users(2);
    expect((await p.users.put('/api/v1/users/12345/follow').set(bearer(alice.token)).expect(400)).body.details[0].path).toBe('params.id');
    expect((await p.users.put(`/api/v1/users/${bob.id}/follow`).expect(401)).body.error).toBe('token_missing');
    expect((await p.users.delete(`/api/v1/users/${bob.id}/follow`).expect(401)).body.error).toBe('token_missing');
    expect((await p.users.get(`/api/v1/users/${bob.id}/follow`).expect(401)).body.error).toBe('token_missing');
    expect((await p.users.get(`/api/v1/users/${bob.id}/followers`).expect(401)).body.error).toBe('token_missing');
    await p.users.delete('/api/v1/users/12345/follow').set(bearer(alice.token)).expect(400);
    await p.users.get('/api/v1/users/12345/following').set(bearer(alice.token)).expect(400);
  });

  it('when the database refuses a self-follow written around the API, then the CHECK holds', async () => {
    const [alice] = await users(1);
    await expect(p.usersDb('follows').insert({ follower_id: alice.id, followee_id: alice.id })).rejects.toThrow(/follows_not_self/);
  });
});

describe('DELETE /api/v1/users/{id}/follow', () => {
  it('when a user unfollows, then 204, the row goes and one user.unfollowed event is written; again, 204 and no event', async () => {
    const [alice, bob] = await users(2);
    await follow(alice, bob).expect(200);

    await unfollow(alice, bob).expect(204);
    await unfollow(alice, bob).expect(204);

    expect(await rows(alice, bob)).toHaveLength(0);
    const published = await events('user.unfollowed', alice);
    expect(published).toHaveLength(1);
    expect(published[0].envelope).toMatchObject({ source: 'users', subject: alice.id, data: { followee_id: bob.id } });
    expect((await p.users.get(`/api/v1/users/${bob.id}/follow`).set(bearer(alice.token)).expect(404)).body.error).toBe('not_following');
  });

  it('when the user is unknown or themself, then 204 and no event: there is nothing to undo', async () => {
    const [alice] = await users(1);
    await unfollow(alice, { id: '00000000-0000-7000-8000-000000000000' }).expect(204);
    await unfollow(alice, alice).expect(204);
    expect(await events('user.unfollowed', alice)).toHaveLength(0);
  });

  it('when a user follows again after unfollowing, then a new follow, with a new time and a new event', async () => {
    const [alice, bob] = await users(2);
    const first = await follow(alice, bob).expect(200);
    await unfollow(alice, bob).expect(204);
    const again = await follow(alice, bob).expect(200);
    expect(new Date(again.body.followed_at).getTime()).toBeGreaterThan(new Date(first.body.followed_at).getTime());
    expect((await events('user.followed', alice)).map((event) => event.envelope.data.followee_id)).toEqual([bob.id, bob.id]);
  });

  it('when a user unfollows someone deactivated since, then it works', async () => {
    const [alice, bob] = await users(2);
    await follow(alice, bob).expect(200);
    await p.users.patch(`/api/v1/users/${bob.id}`).set(bearer(adminToken)).send({ active: false }).expect(200);
    await follow(alice, bob).expect(404);
    await unfollow(alice, bob).expect(204);
    expect(await rows(alice, bob)).toHaveLength(0);
  });
});

describe('GET /api/v1/users/{id}/followers and /following', () => {
  it('when follows are added while a client pages with limit 7, then every earlier follow appears exactly once, newest first', async () => {
    const [hub, ...others] = await users(39);
    const [followed, late] = [others.slice(0, 30), others.slice(30)];
    // The hub follows 30 users, and the same 30 follow the hub.
    for (const user of followed) await follow(hub, user).expect(200);
    for (const user of followed) await follow(user, hub).expect(200);

    // Between two pages, one new follow each way (new users: a follow made again would change nothing).
    let next = 0;
    const interleave = async () => {
      const user = late[next % late.length]!;
      next += 1;
      await Promise.all([follow(hub, user).expect(200), follow(user, hub).expect(200)]);
    };
    for (const direction of ['following', 'followers']) {
      const pages = await allPages(`/api/v1/users/${hub.id}/${direction}`, hub.token, 7, interleave);
      const seen = pages.flat();

      expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
      expect(new Set(seen.map((entry) => entry.id)).size).toBe(seen.length);
      expect(seen.map((entry) => entry.id)).toEqual(expect.arrayContaining(followed.map((user) => user.id)));
      // Newest first: the 30 earlier follows come out in the reverse of the order they were made.
      expect(seen.filter((entry) => followed.some((user) => user.id === entry.id)).map((entry) => entry.id)).toEqual(
        followed.map((user) => user.id).reverse(),
      );
      const times = seen.map((entry) => Date.parse(entry.followed_at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
    // Read once more at rest: exactly the 30 and the late ones, in both lists, none twice.
    for (const direction of ['following', 'followers']) {
      const ids = (await allPages(`/api/v1/users/${hub.id}/${direction}`, hub.token, 7)).flat().map((entry) => entry.id);
      expect(new Set(ids)).toEqual(new Set([...followed, ...late].map((user) => user.id)));
      expect(ids).toHaveLength(38);
    }
  });

  it('when the cursor is forged, from another list order, or the limit is out of range, then 400', async () => {
    const [alice] = await users(1);
    const list = `/api/v1/users/${alice.id}/followers`;
    expect((await p.users.get(list).query({ cursor: 'bm90LWEtY3Vyc29y' }).set(bearer(alice.token)).expect(400)).body.error).toBe(
      'invalid_cursor',
    );
    const byName = await p.users.get('/api/v1/users').query({ sort: 'name', limit: 1 }).set(bearer(adminToken)).expect(200);
    expect((await p.users.get(list).query({ cursor: byName.body.next_cursor }).set(bearer(alice.token)).expect(400)).body.error).toBe(
      'invalid_cursor',
    );
    for (const limit of ['0', '101', 'ten']) {
      const response = await p.users.get(list).query({ limit }).set(bearer(alice.token)).expect(400);
      expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain('query.limit');
    }
    await p.users.get(list).query({ colour: 'blue' }).set(bearer(alice.token)).expect(400);
  });

  it('when the profile is private, then its lists are 404 for others and whole for the owner and admins; public, for everyone', async () => {
    const [owner, follower, stranger] = await users(3);
    await makePublic(follower);
    await follow(follower, owner).expect(200);
    const lists = [`/api/v1/users/${owner.id}/followers`, `/api/v1/users/${owner.id}/following`];

    for (const list of lists) {
      expect((await p.users.get(list).set(bearer(stranger.token)).expect(404)).body.error).toBe('user_not_found');
      await p.users.get(list).set(bearer(owner.token)).expect(200);
      await p.users.get(list).set(bearer(adminToken)).expect(200);
    }
    // Indistinguishable from no user at all.
    const unknown = await p.users
      .get('/api/v1/users/00000000-0000-7000-8000-000000000000/followers')
      .set(bearer(stranger.token))
      .expect(404);
    expect(unknown.body.error).toBe('user_not_found');

    await makePublic(owner);
    const followers = await p.users.get(lists[0]!).set(bearer(stranger.token)).expect(200);
    expect(followers.body.items).toEqual([{ id: follower.id, name: follower.name, avatar_url: null, followed_at: expect.any(String) }]);
    await p.users.get(lists[1]!).set(bearer(stranger.token)).expect(200);

    await p.users.patch(`/api/v1/users/${owner.id}`).set(bearer(adminToken)).send({ active: false }).expect(200);
    await p.users.get(lists[0]!).set(bearer(stranger.token)).expect(404);
    await p.users.get(lists[0]!).set(bearer(adminToken)).expect(200);
  });

  it('when a list holds a private or deactivated profile, then others see its id only; itself and admins see its name', async () => {
    const [star, hidden, resting, viewer] = await users(4);
    await makePublic(star);
    await makePublic(resting);
    await follow(hidden, star).expect(200);
    await follow(resting, star).expect(200);
    await p.users.patch(`/api/v1/users/${resting.id}`).set(bearer(adminToken)).send({ active: false }).expect(200);
    const followersOf = async (token: string) =>
      ((await p.users.get(`/api/v1/users/${star.id}/followers`).set(bearer(token)).expect(200)).body.items as Entry[]).map((entry) => [
        entry.id,
        entry.name,
      ]);

    expect(await followersOf(viewer.token)).toEqual([
      [resting.id, null],
      [hidden.id, null],
    ]);
    expect(await followersOf(star.token)).toEqual([
      [resting.id, null],
      [hidden.id, null],
    ]);
    expect(await followersOf(hidden.token)).toEqual([
      [resting.id, null],
      [hidden.id, hidden.name],
    ]);
    expect(await followersOf(adminToken)).toEqual([
      [resting.id, resting.name],
      [hidden.id, hidden.name],
    ]);
  });
});

describe('follow counts', () => {
  it('when users follow and unfollow, then followers_count and following_count are exact on every profile answer', async () => {
    const [alice, bob, carol, dave] = await users(4);
    await makePublic(bob);
    await follow(alice, bob).expect(200);
    await follow(alice, carol).expect(200);
    await follow(dave, alice).expect(200);
    await follow(carol, bob).expect(200);
    await follow(alice, bob).expect(200);

    const me = await p.users.get('/api/v1/users/me').set(bearer(alice.token)).expect(200);
    expect(me.body).toMatchObject({ followers_count: 1, following_count: 2 });
    const publicBob = await p.users.get(`/api/v1/users/${bob.id}`).set(bearer(dave.token)).expect(200);
    expect(publicBob.body).toMatchObject({ followers_count: 2, following_count: 0 });
    const patched = await p.users.patch('/api/v1/users/me').set(bearer(alice.token)).send({ bio: 'counting' }).expect(200);
    expect(patched.body).toMatchObject({ followers_count: 1, following_count: 2 });
    const searched = await p.users.get('/api/v1/users').query({ q: alice.email }).set(bearer(adminToken)).expect(200);
    expect(searched.body.items).toEqual([expect.objectContaining({ id: alice.id, followers_count: 1, following_count: 2 })]);

    await unfollow(alice, bob).expect(204);
    await unfollow(alice, bob).expect(204);
    expect((await p.users.get(`/api/v1/users/${bob.id}`).set(bearer(bob.token)).expect(200)).body).toMatchObject({
      followers_count: 1,
      following_count: 0,
    });
    expect((await p.users.get('/api/v1/users/me').set(bearer(alice.token)).expect(200)).body).toMatchObject({
      followers_count: 1,
      following_count: 1,
    });
  });

  it('when a user is deleted, then their follows go both ways, the counts of the others drop, and user.deleted is the one event', async () => {
    const [eve, frank, gina] = await users(3);
    await follow(eve, frank).expect(200);
    await follow(frank, eve).expect(200);
    await follow(gina, eve).expect(200);
    await follow(gina, frank).expect(200);

    await p.users.delete('/api/v1/users/me').set(bearer(eve.token)).expect(204);

    expect(await p.usersDb('follows').where({ follower_id: eve.id }).orWhere({ followee_id: eve.id })).toHaveLength(0);
    expect((await p.users.get('/api/v1/users/me').set(bearer(frank.token)).expect(200)).body).toMatchObject({
      followers_count: 1,
      following_count: 0,
    });
    expect((await p.users.get('/api/v1/users/me').set(bearer(gina.token)).expect(200)).body).toMatchObject({
      followers_count: 0,
      following_count: 1,
    });
    expect(await p.usersDb('outbox').where({ subject: eve.id }).whereIn('event_type', ['user.unfollowed', 'user.deleted'])).toEqual([
      expect.objectContaining({ event_type: 'user.deleted' }),
    ]);
    expect(await events('user.unfollowed', frank)).toHaveLength(0);
    await p.users.get(`/api/v1/users/${eve.id}/followers`).set(bearer(adminToken)).expect(404);
  });
});

describe('the OpenAPI document', () => {
  it('when it is read, then it lists the follow operations with every status they answer, and the counts', async () => {
    const document = (await p.users.get('/api/v1/users/openapi.json').expect(200)).body;
    const statuses = (path: string, method: string) => Object.keys(document.paths[path][method].responses).sort();

    expect(statuses('/api/v1/users/{id}/follow', 'put')).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409', '503']));
    expect(statuses('/api/v1/users/{id}/follow', 'delete')).toEqual(expect.arrayContaining(['204', '400', '401']));
    expect(statuses('/api/v1/users/{id}/follow', 'get')).toEqual(expect.arrayContaining(['200', '401', '404']));
    for (const list of ['/api/v1/users/{id}/followers', '/api/v1/users/{id}/following']) {
      expect(statuses(list, 'get')).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
      expect(document.paths[list].get.security).toEqual([{ bearerAuth: [] }]);
    }
    expect(document.components.schemas.Profile.required).toEqual(expect.arrayContaining(['followers_count', 'following_count']));
    expect(document.components.schemas.PublicProfile.required).toEqual(expect.arrayContaining(['followers_count', 'following_count']));
    expect(document.components.schemas.FollowList.properties.items).toBeDefined();
  });
});
