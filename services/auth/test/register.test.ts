import { startAuth, newUser, outboxEvents, type AuthHarness } from './harness';

let h: AuthHarness;
beforeAll(async () => {
  h = await startAuth();
});
afterAll(async () => {
  await h.close();
});

const register = (body: unknown) => h.http.post('/api/v1/auth/register').send(body as object);

describe('POST /api/v1/auth/register', () => {
  it('when the input is valid, then it creates the user with a normalised email and answers 201', async () => {
    const user = newUser({ email: `Mixed.Case.${Date.now()}@Example.COM` });
    const response = await register(user).expect(201);
    expect(response.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: user.email.toLowerCase(),
      name: user.name,
      role: 'user',
      email_verified: false,
      created_at: expect.any(String),
    });
    expect(response.body).not.toHaveProperty('password_hash');
  });

  it('when the email is taken (in any case), then 409 email_taken and no second event', async () => {
    const user = newUser();
    const first = await register(user).expect(201);
    const second = await register({ ...user, email: user.email.toUpperCase() }).expect(409);
    expect(second.body).toMatchObject({ error: 'email_taken', request_id: expect.any(String) });
    const events = await outboxEvents(h, first.body.id);
    expect(events.map((event) => event.event_type)).toEqual(['user.registered']);
  });

  it.each([
    ['a missing field', { email: 'a@example.com', password: 'a long enough passphrase' }, 'body.name'],
    ['an unknown field', { ...newUser(), admin: true }, 'body.admin'],
    ['a wrong type', { ...newUser(), name: 42 }, 'body.name'],
    ['an invalid email', { ...newUser(), email: 'not-an-email' }, 'body.email'],
    ['an email with spaces around it', { ...newUser(), email: ' a@example.com ' }, 'body.email'],
    ['an email whose local part is over 64 characters', { ...newUser(), email: `${'x'.repeat(65)}@example.com` }, 'body.email'],
    ['a name of only spaces', { ...newUser(), name: '   ' }, 'body.name'],
    ['a name holding NUL', { ...newUser(), name: 'Ada\u0000' }, 'body.name'],
    ['an overlong name', { ...newUser(), name: 'x'.repeat(101) }, 'body.name'],
    ['an overlong email', { ...newUser(), email: `${'x'.repeat(250)}@example.com` }, 'body.email'],
    ['an overlong password', { ...newUser(), password: 'p'.repeat(2000) }, 'body.password'],
    ['a short password', { ...newUser(), password: 'short' }, 'body.password'],
    ['a common password', { ...newUser(), password: 'password123' }, 'body.password'],
    ['an array body', [1, 2, 3], 'body'],
  ])('when the body has %s, then 400 naming the field', async (_case, body, path) => {
    const response = await register(body).expect(400);
    expect(response.body.error).toBe('validation_failed');
    expect(response.body.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('when the password is the email, then 400 with code matches_email', async () => {
    const email = `same.${Date.now()}@example.com`;
    const response = await register({ email, password: email, name: 'Same' }).expect(400);
    expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'matches_email' })]));
  });

  it('when the password is 129 characters, then 400 too_long; at 128 it is accepted', async () => {
    await register({ ...newUser(), password: 'p'.repeat(129) }).expect(400);
    await register({ ...newUser(), password: 'q'.repeat(128) }).expect(201);
  });

  it('when the JSON is malformed, then 400 malformed_json', async () => {
    const response = await h.http.post('/api/v1/auth/register').set('Content-Type', 'application/json').send('{"email": ').expect(400);
    expect(response.body.error).toBe('malformed_json');
  });

  it('when the body is 2 MB, then 413 payload_too_large', async () => {
    const response = await register({ ...newUser(), name: 'x'.repeat(2 * 1024 * 1024) }).expect(413);
    expect(response.body.error).toBe('payload_too_large');
  });

  it('when the content type is not JSON, then 415 unsupported_media_type', async () => {
    const response = await h.http.post('/api/v1/auth/register').set('Content-Type', 'text/plain').send('email=a@example.com').expect(415);
    expect(response.body.error).toBe('unsupported_media_type');
  });

  it('when the body is empty, then 400 listing every required field', async () => {
    const response = await h.http.post('/api/v1/auth/register').expect(400);
    expect(response.body.details.map((detail: { path: string }) => detail.path).sort()).toEqual([
      'body.email',
      'body.name',
      'body.password',
    ]);
  });

  it('when an error happens, then nothing stored before is lost', async () => {
    const user = newUser();
    await register(user).expect(201);
    await register({ ...user, name: 42 }).expect(400);
    await h.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);
  });
});
