/**
 * The browser's session: the refresh token in an HttpOnly cookie scoped to the refresh and logout
 * paths, CSRF checks on every request that relies on it, rotation and the grace window as in body
 * mode.
 */
import { newUser, startAuth, type AuthHarness } from './harness';

let h: AuthHarness;
let secure: AuthHarness;
beforeAll(async () => {
  h = await startAuth({ PUBLIC_BASE_URL: 'http://localhost:8080', AUTH_REFRESH_REUSE_GRACE_SECONDS: '2' });
  secure = await startAuth({ PUBLIC_BASE_URL: 'https://galion.example.com' });
});
afterAll(async () => {
  await h?.close();
  await secure?.close();
});

const csrf = { 'X-CSRF-Protection': '1' };
const setCookies = (headers: Record<string, unknown>): string[] => (headers['set-cookie'] as string[] | undefined) ?? [];
/** The value a browser would send back: `galion_refresh=<token>`. */
const cookieOf = (headers: Record<string, unknown>): string => setCookies(headers)[0]!.split(';')[0]!;

const browserLogin = async (harness = h) => {
  const user = newUser();
  await harness.http.post('/api/v1/auth/register').send(user).expect(201);
  const login = await harness.http
    .post('/api/v1/auth/login')
    .send({ email: user.email, password: user.password, session: 'cookie' })
    .expect(200);
  return { user, login, cookie: cookieOf(login.headers), accessToken: login.body.access_token as string };
};

describe('cookie sessions', () => {
  it('when a browser logs in with session "cookie", then the refresh token is only in an HttpOnly, SameSite=Strict cookie for the refresh and logout paths', async () => {
    const { login } = await browserLogin();

    expect(login.body.refresh_token).toBeUndefined();
    expect(login.body.access_token).toEqual(expect.any(String));
    const cookies = setCookies(login.headers);
    expect(cookies.map((c) => c.replace(/^galion_refresh=[^;]+/, 'galion_refresh=<token>'))).toEqual([
      'galion_refresh=<token>; Path=/api/v1/auth/refresh; Max-Age=2592000; HttpOnly; SameSite=Strict',
      'galion_refresh=<token>; Path=/api/v1/auth/logout; Max-Age=2592000; HttpOnly; SameSite=Strict',
    ]);
    expect(login.headers['cache-control']).toBe('no-store');
  });

  it('when the public URL is https, then the cookie is Secure', async () => {
    const { login } = await browserLogin(secure);

    expect(setCookies(login.headers).every((c) => c.endsWith('; Secure'))).toBe(true);
  });

  it('when the browser refreshes with the cookie and the CSRF header, then it gets a new access token and a rotated cookie, and the old cookie is refused after the grace window', async () => {
    const { cookie } = await browserLogin();

    const refreshed = await h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).set(csrf).send({}).expect(200);
    const next = cookieOf(refreshed.headers);
    await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${refreshed.body.access_token}`).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const replayed = await h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).set(csrf).send({});

    expect(refreshed.body.refresh_token).toBeUndefined();
    expect(next).not.toBe(cookie);
    expect({ status: replayed.status, error: replayed.body.error }).toEqual({ status: 401, error: 'refresh_token_reused' });
  });

  it('when two tabs refresh with the same cookie at the same moment, then both stay logged in', async () => {
    const { cookie } = await browserLogin();

    const [first, second] = await Promise.all([
      h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).set(csrf).send({}),
      h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).set(csrf).send({}),
    ]);

    expect([first.status, second.status]).toEqual([200, 200]);
    for (const reply of [first, second]) {
      await h.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${reply.body.access_token}`).expect(200);
      await h.http.post('/api/v1/auth/refresh').set('Cookie', cookieOf(reply.headers)).set(csrf).send({}).expect(200);
    }
  });

  it('when the cookie comes without the CSRF header, or with another site as Origin, then the refresh is refused with 403 and the session is untouched', async () => {
    const { cookie } = await browserLogin();

    const noHeader = await h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).send({});
    const foreign = await h.http
      .post('/api/v1/auth/refresh')
      .set('Cookie', cookie)
      .set(csrf)
      .set('Origin', 'https://evil.example')
      .send({});
    const sameSite = await h.http
      .post('/api/v1/auth/refresh')
      .set('Cookie', cookie)
      .set(csrf)
      .set('Origin', 'http://localhost:8080')
      .send({});

    expect([noHeader.status, noHeader.body.error, foreign.status, foreign.body.error]).toEqual([
      403,
      'csrf_check_failed',
      403,
      'csrf_check_failed',
    ]);
    expect(sameSite.status).toBe(200);
  });

  it('when there is no refresh token at all, then the answer is 401 refresh_token_missing in the error format', async () => {
    const reply = await h.http.post('/api/v1/auth/refresh').send({}).expect(401);

    expect(reply.body).toMatchObject({ error: 'refresh_token_missing', message: expect.stringMatching(/galion_refresh cookie/) });
  });

  it('when the browser logs out, then the cookie is removed from both paths and a replay of it is refused', async () => {
    const { cookie, accessToken } = await browserLogin();

    const logout = await h.http
      .post('/api/v1/auth/logout')
      .set('Authorization', `Bearer ${accessToken}`)
      .set('Cookie', cookie)
      .set(csrf)
      .send({})
      .expect(204);
    const replayed = await h.http.post('/api/v1/auth/refresh').set('Cookie', cookie).set(csrf).send({});

    expect(setCookies(logout.headers)).toEqual([
      'galion_refresh=; Path=/api/v1/auth/refresh; Max-Age=0; HttpOnly; SameSite=Strict',
      'galion_refresh=; Path=/api/v1/auth/logout; Max-Age=0; HttpOnly; SameSite=Strict',
    ]);
    expect({ status: replayed.status, error: replayed.body.error }).toEqual({ status: 401, error: 'refresh_token_revoked' });
  });

  it('when an API client logs in without session, then it gets the refresh token in the body and no cookie, as before', async () => {
    const user = newUser();
    await h.http.post('/api/v1/auth/register').send(user).expect(201);

    const login = await h.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password }).expect(200);

    expect(login.body.refresh_token).toEqual(expect.any(String));
    expect(setCookies(login.headers)).toEqual([]);
  });
});

describe('reading the refresh cookie', () => {
  it('when the Cookie header holds several cookies, then only galion_refresh is read, whole', async () => {
    const { readRefreshCookie } = await import('../src/routes/refresh-cookie');

    expect(readRefreshCookie('theme=dark; galion_refresh=abc=def; other=1')).toBe('abc=def');
    expect(readRefreshCookie('galion_refresh_old=x; theme=dark')).toBeUndefined();
    expect(readRefreshCookie('galion_refresh=')).toBeUndefined();
    expect(readRefreshCookie(undefined)).toBeUndefined();
  });
});
