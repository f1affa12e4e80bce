import type { Response, Test } from 'supertest';
import { newUser, registerAndLogin, startAuth, type AuthHarness } from './harness';

let h: AuthHarness;
beforeAll(async () => {
  // One hash at a time and two in line; a costly hash (t=20, a few hundred ms), so a full line stays full while the test
  // looks; and one failed login is enough to make the next wait, so a refusal counted as a failure would show.
  h = await startAuth({
    AUTH_ARGON2_CONCURRENCY: '1',
    AUTH_ARGON2_QUEUE_MAX: '2',
    AUTH_ARGON2_TIME_COST: '20',
    AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '1',
  });
});
afterAll(async () => {
  await h.close();
});

/** A request, with how long its answer took and when it came. */
const timed = async (request: Test): Promise<{ response: Response; ms: number; at: number }> => {
  const started = performance.now();
  const response = await request;
  return { response, ms: performance.now() - started, at: performance.now() };
};

const gauge = async (name: string): Promise<number> => {
  const text = (await h.http.get('/metrics').expect(200)).text;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};

/** Starts three logins and waits until one is hashing and two wait in line: the queue is full. */
const fillTheQueue = async (user: { email: string; password: string }) => {
  const logins = [1, 2, 3].map(() => timed(h.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password })));
  const deadline = Date.now() + 10_000;
  while ((await gauge('auth_password_hashes_running')) < 1 || (await gauge('auth_password_hashes_waiting')) < 2) {
    if (Date.now() > deadline) throw new Error('the hashing queue never filled');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return logins;
};

describe('the password hashing queue', () => {
  it('when more logins arrive than the queue holds, then the extra get 503 with Retry-After at once and the others succeed', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);
    const refusedBefore = await gauge('auth_password_hashes_refused_total');

    const accepted = await fillTheQueue(user);
    const refused = await Promise.all(
      [1, 2, 3, 4, 5].map(() => timed(h.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }))),
    );
    const served = await Promise.all(accepted);

    for (const { response } of refused) {
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({
        error: 'overloaded',
        message: expect.stringMatching(/try again/),
        request_id: expect.any(String),
      });
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    for (const { response } of served) expect(response.body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
    // At once: each refusal came faster than any accepted login, and all of them before the line drained.
    expect(Math.max(...refused.map((answer) => answer.ms))).toBeLessThan(Math.min(...served.map((answer) => answer.ms)));
    expect(Math.max(...refused.map((answer) => answer.at))).toBeLessThan(Math.max(...served.map((answer) => answer.at)));
    expect((await gauge('auth_password_hashes_refused_total')) - refusedBefore).toBe(5);
  });

  it('when the queue is full, then registrations and password changes are refused the same way, and a refused login is no failed login', async () => {
    const session = await registerAndLogin(h);
    const accepted = await fillTheQueue(session.user);

    // All three at once, while the queue is surely still full.
    const [registration, change, wrongPassword] = await Promise.all([
      h.http.post('/api/v1/auth/register').send(newUser()).expect(503),
      h.http
        .post('/api/v1/auth/password')
        .set('Authorization', `Bearer ${session.accessToken}`)
        .send({ current_password: session.user.password, new_password: 'a different long passphrase' })
        .expect(503),
      h.http.post('/api/v1/auth/login').send({ email: session.user.email, password: 'not the password' }).expect(503),
    ]);

    for (const refusal of [registration, change, wrongPassword]) {
      expect(refusal.body.error).toBe('overloaded');
      expect(refusal.headers['retry-after']).toMatch(/^\d+$/);
    }
    for (const { response } of await Promise.all(accepted)) expect(response.status).toBe(200);
    await h.http.post('/api/v1/auth/login').send({ email: session.user.email, password: session.user.password }).expect(200);
  });
});
