import { startAuth, newUser, outboxEvents, type AuthHarness } from './harness';

let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth({ AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', AUTH_LOGIN_MAX_FAILURES_PER_IP: '1000' });
});
afterAll(async () => {
  await h.close();
});

let ipCounter = 0;
const freshIp = () => {
  ipCounter += 1;
  return `203.0.113.${ipCounter}`;
};
const login = (body: object, ip = freshIp()) => h.http.post('/api/v1/auth/login').set('X-Forwarded-For', ip).send(body);

const registered = async () => {
  const user = newUser();
  const response = await h.http.post('/api/v1/auth/register').send(user).expect(201);
  return { ...user, id: response.body.id as string };
};

describe('POST /api/v1/auth/login', () => {
  it('when the credentials are right, then 200 with a bearer pair that must not be cached', async () => {
    const user = await registered();
    const response = await login({ email: user.email.toUpperCase(), password: user.password }).expect(200);
    expect(response.body).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refresh_token: expect.stringMatching(/^[\w-]{43}$/),
      token_type: 'Bearer',
      expires_in: 900,
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('when the email is unknown or the password wrong, then the same 401 answer', async () => {
    const user = await registered();
    const unknown = await login({ email: `nobody.${Date.now()}@example.com`, password: user.password }).expect(401);
    const wrong = await login({ email: user.email, password: 'not the password at all' }).expect(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(unknown.body.error).toBe('invalid_credentials');
  });

  it('when the email is unknown, then the answer takes about as long as a wrong password', async () => {
    const user = await registered();
    const time = async (body: object) => {
      const started = process.hrtime.bigint();
      await login(body).expect(401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      unknown.push(await time({ email: `ghost${i}.${Date.now()}@example.com`, password: 'whatever password' }));
      wrong.push(await time({ email: user.email, password: `wrong password ${i}` }));
    }
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('when one (account, IP) fails 5 times, then the 6th attempt is 429 with Retry-After, and the user still logs in from another IP', async () => {
    const user = await registered();
    const attackerIp = freshIp();
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await login({ email: user.email, password: `guess ${attempt}` }, attackerIp).expect(401);
    }
    const blocked = await login({ email: user.email, password: user.password }, attackerIp).expect(429);
    expect(blocked.body.error).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await login({ email: user.email, password: user.password }, freshIp()).expect(200);
  });

  it('when one IP sprays many accounts, then the IP limit stops it', async () => {
    const strict = await startAuth({ AUTH_LOGIN_MAX_FAILURES_PER_IP: '3', AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
    try {
      const ip = '192.0.2.77';
      for (let i = 0; i < 3; i += 1) {
        await strict.http
          .post('/api/v1/auth/login')
          .set('X-Forwarded-For', ip)
          .send({ email: `spray${i}@example.com`, password: 'guess guess' })
          .expect(401);
      }
      await strict.http
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', ip)
        .send({ email: 'spray9@example.com', password: 'guess guess' })
        .expect(429);
    } finally {
      await strict.close();
    }
  });

  it('when the body is invalid, then 400 before any credential check', async () => {
    const response = await login({ email: 'x@example.com' }).expect(400);
    expect(response.body.details[0].path).toBe('body.password');
    await login({ email: 'x@example.com', password: 'p', remember: true }).expect(400);
  });

  it('when login succeeds or fails, then exactly one matching event is in the outbox', async () => {
    const user = await registered();
    await login({ email: user.email, password: 'wrong wrong wrong' }).expect(401);
    await login({ email: user.email, password: user.password }).expect(200);
    const events = await outboxEvents(h, user.id);
    expect(events.map((event) => event.event_type)).toEqual(['user.registered', 'user.login_failed', 'user.logged_in']);
    const loggedIn = events[2]!.envelope;
    expect(loggedIn).toMatchObject({ type: 'user.logged_in', source: 'auth', subject: user.id, version: 1 });
    expect(loggedIn.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });
});

describe('password hashing', () => {
  it('when the argon2 parameters are raised, then the next login rehashes the password', async () => {
    const user = await registered();
    const before = await h.db('accounts').where({ id: user.id }).first();
    expect(before.password_hash).toMatch(/^\$argon2id\$v=19\$.*\bt=2\b/);
    const stronger = await startAuth({ AUTH_ARGON2_TIME_COST: '3' }, { databaseUrl: h.env.DATABASE_URL! });
    try {
      await stronger.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
      const after = await h.db('accounts').where({ id: user.id }).first();
      expect(after.password_hash).toMatch(/^\$argon2id\$v=19\$.*\bt=3\b/);
    } finally {
      await stronger.close();
    }
  });
});
