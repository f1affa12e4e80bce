import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { AppError } from '@galion/kit';
import { StaticKeySource, TokenVerifier } from '@galion/tokens';

const ISSUER = 'https://galion.test/api/v1/auth';

const base64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const keyPair = (alg: 'EdDSA' | 'ES256', kid: string) => {
  const { privateKey, publicKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
};

const ed = keyPair('EdDSA', 'ed-1');
const ec = keyPair('ES256', 'ec-1');

const now = () => Math.floor(Date.now() / 1000);
const goodClaims = () => ({
  iss: ISSUER,
  aud: 'galion',
  sub: 'user-1',
  jti: `jti-${Math.random()}`,
  role: 'user',
  sid: 'session-1',
  iat: Date.now() / 1000,
  exp: now() + 600,
});

/** A compact JWS built by hand, so a test can make any header, payload or signature it needs. */
const compact = (header: object, payload: unknown, signWith: { alg: string; privateKey: KeyObject } = ed) => {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature =
    signWith.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: signWith.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(input), signWith.privateKey);
  return `${input}.${signature.toString('base64url')}`;
};

const token = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: typeof ed = ed) =>
  compact({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }, { ...goodClaims(), ...claims }, key);

const verifier = async () =>
  new TokenVerifier({ keys: await StaticKeySource.fromJwks({ keys: [ed.jwk, ec.jwk] as never }), issuer: ISSUER, audience: 'galion' });

/** What the verifier refuses `candidate` with: its code and message. */
const refusal = async (candidate: string, using?: TokenVerifier) => {
  const error = await (using ?? (await verifier())).verify(candidate).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(AppError);
  const { status, code, message, headers } = error as AppError;
  expect(status).toBe(401);
  expect(headers['WWW-Authenticate']).toMatch(/^Bearer realm="galion", error="invalid_token"/);
  return { code, message };
};

const MALFORMED = { code: 'token_invalid', message: 'The token is malformed.' };
const NOT_ACCEPTED = { code: 'token_invalid', message: 'The token uses a signing algorithm that is not accepted.' };
const BAD_SIGNATURE = { code: 'token_invalid', message: 'The token signature is not valid.' };
const claimRefused = (claim: string) => ({ code: 'token_invalid', message: `The token's ${claim} claim is not acceptable here.` });

describe('the token verifier', () => {
  it('when a token of either algorithm is good, then its claims come back', async () => {
    const v = await verifier();
    await expect(v.verify(token({ sub: 'ada' }))).resolves.toMatchObject({ sub: 'ada', role: 'user', iss: ISSUER });
    await expect(v.verify(token({ sub: 'bob' }, {}, ec))).resolves.toMatchObject({ sub: 'bob' });
  });

  it('when the token is not three base64url segments, then it is malformed', async () => {
    const [header, payload, signature] = token().split('.') as [string, string, string];
    expect(await refusal(`${header}.${payload}`)).toEqual(MALFORMED);
    expect(await refusal(`${header}.${payload}.${signature}.${signature}`)).toEqual(MALFORMED);
    expect(await refusal(`${header}.${payload}.`)).toEqual(MALFORMED);
    // Standard base64's + and /, and padding, are not base64url.
    expect(await refusal(`${header}.${payload.slice(0, -1)}+.${signature}`)).toEqual(MALFORMED);
    expect(await refusal(`${header}.${payload}.${signature}=`)).toEqual(MALFORMED);
    // 4n+1 characters cannot be base64url of anything.
    expect(await refusal(`${header}.${payload}.${signature}A`.replace(/\.[^.]+$/, '.AAAAA'))).toEqual(MALFORMED);
  });

  it('when the header is not a JSON object, then the token is malformed', async () => {
    const [, payload, signature] = token().split('.') as [string, string, string];
    expect(await refusal(`${base64url('not json')}.${payload}.${signature}`)).toEqual(MALFORMED);
    expect(await refusal(`${base64url(['EdDSA'])}.${payload}.${signature}`)).toEqual(MALFORMED);
  });

  it('when the token says alg none, or an algorithm other than the accepted ones, then it is refused', async () => {
    const payload = base64url(goodClaims());
    expect(await refusal(`${base64url({ alg: 'none', typ: 'at+jwt' })}.${payload}.AAAA`)).toEqual(NOT_ACCEPTED);
    expect(await refusal(token({}, { alg: 'RS256' }))).toEqual(NOT_ACCEPTED);
  });

  it('when the public key is used as an HMAC secret (alg HS256, the classic confusion), then it is refused', async () => {
    const input = `${base64url({ alg: 'HS256', kid: ed.kid, typ: 'at+jwt' })}.${base64url({ ...goodClaims(), role: 'admin' })}`;
    const mac = createHmac('sha256', JSON.stringify(ed.jwk)).update(input).digest('base64url');
    expect(await refusal(`${input}.${mac}`)).toEqual(NOT_ACCEPTED);
  });

  it("when the header's algorithm is not the algorithm of the key its kid names, then it is refused", async () => {
    // Signed with the P-256 key, but naming the Ed25519 key's kid.
    expect(await refusal(token({}, { alg: 'ES256', kid: ed.kid }, ec))).toEqual(NOT_ACCEPTED);
    expect(await refusal(token({}, { alg: 'EdDSA', kid: ec.kid }, ed))).toEqual(NOT_ACCEPTED);
  });

  it('when the kid is unknown or missing, then it is refused naming the key', async () => {
    const unknown = { code: 'token_invalid', message: 'The token was signed with a key this service does not know.' };
    expect(await refusal(token({}, { kid: 'someone-else' }))).toEqual(unknown);
    expect(await refusal(token({}, { kid: undefined }))).toEqual(unknown);
  });

  it('when the payload is changed after signing (role admin), then the signature is not valid', async () => {
    const [header, payload, signature] = token().split('.') as [string, string, string];
    const elevated = base64url({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' });
    expect(await refusal(`${header}.${elevated}.${signature}`)).toEqual(BAD_SIGNATURE);
  });

  it('when the header is changed after signing, even one already seen on a good token, then the signature is not valid', async () => {
    const v = await verifier();
    const good = token();
    await v.verify(good);
    const [, payload, signature] = good.split('.') as [string, string, string];
    const changed = base64url({ alg: 'EdDSA', kid: ed.kid, typ: 'at+jwt', extra: 1 });
    expect(await refusal(`${changed}.${payload}.${signature}`, v)).toEqual(BAD_SIGNATURE);
    // The header seen before, with the signature of another token: still checked.
    const [header] = good.split('.') as [string];
    const otherSignature = token().split('.')[2]!;
    expect(await refusal(`${header}.${payload}.${otherSignature}`, v)).toEqual(BAD_SIGNATURE);
  });

  it('when the signature was made by another key with the same kid, then it is not valid', async () => {
    const impostor = keyPair('EdDSA', ed.kid);
    expect(await refusal(token({}, {}, impostor))).toEqual(BAD_SIGNATURE);
    const [header, payload] = token({}, {}, ec).split('.') as [string, string];
    // A P-256 signature must be 64 bytes (r ‖ s): a DER one or a short one is not valid.
    expect(await refusal(`${header}.${payload}.${base64url('short')}`)).toEqual(BAD_SIGNATURE);
  });

  it('when typ is not at+jwt, then it is refused; its media-type spellings are accepted', async () => {
    expect(await refusal(token({}, { typ: 'JWT' }))).toEqual(claimRefused('typ'));
    expect(await refusal(token({}, { typ: undefined }))).toEqual(claimRefused('typ'));
    const v = await verifier();
    await expect(v.verify(token({}, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ sub: 'user-1' });
    await expect(v.verify(token({}, { typ: 'AT+JWT' }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('when the header marks an extension critical, then the token is malformed (none is understood)', async () => {
    expect(await refusal(token({}, { crit: ['exp'], exp: 1 }))).toEqual(MALFORMED);
  });

  it('when the signed payload is not a JSON object, then the token is malformed', async () => {
    expect(await refusal(compact({ alg: 'EdDSA', kid: ed.kid, typ: 'at+jwt' }, [goodClaims()]))).toEqual(MALFORMED);
    expect(await refusal(compact({ alg: 'EdDSA', kid: ed.kid, typ: 'at+jwt' }, 'a string'))).toEqual(MALFORMED);
  });

  it('when the token has expired beyond the clock tolerance, then 401 token_expired; within it, it still verifies', async () => {
    const v = await verifier();
    const error = (await v.verify(token({ exp: now() - 60 })).catch((failure: unknown) => failure)) as AppError;
    expect(error).toMatchObject({ status: 401, code: 'token_expired' });
    expect(error.headers['WWW-Authenticate']).toContain('error_description="The access token has expired"');
    await expect(v.verify(token({ exp: now() - 2 }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('when nbf is in the future beyond the tolerance, then it is refused; within it, it verifies', async () => {
    expect(await refusal(token({ nbf: now() + 60 }))).toEqual(claimRefused('nbf'));
    expect(await refusal(token({ nbf: 'soon' }))).toEqual(claimRefused('nbf'));
    await expect((await verifier()).verify(token({ nbf: now() + 2 }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('when the audience is an array, then it must include this audience', async () => {
    await expect((await verifier()).verify(token({ aud: ['other', 'galion'] }))).resolves.toMatchObject({ sub: 'user-1' });
    expect(await refusal(token({ aud: ['other', 'another'] }))).toEqual(claimRefused('aud'));
    expect(await refusal(token({ aud: 'someone-else' }))).toEqual(claimRefused('aud'));
  });

  it('when the issuer is another, then it is refused', async () => {
    expect(await refusal(token({ iss: 'https://evil.example/api/v1/auth' }))).toEqual(claimRefused('iss'));
  });

  it('when a required claim is missing or of the wrong type, then it is refused naming the claim', async () => {
    for (const claim of ['sub', 'jti', 'iat', 'exp']) expect(await refusal(token({ [claim]: undefined }))).toEqual(claimRefused(claim));
    expect(await refusal(token({ iat: 'yesterday' }))).toEqual(claimRefused('iat'));
    expect(await refusal(token({ exp: 'later' }))).toEqual(claimRefused('exp'));
    expect(await refusal(token({ sub: 42 }))).toEqual(claimRefused('sub'));
  });

  it('when the role is missing or unknown, then it is refused', async () => {
    const noRole = { code: 'token_invalid', message: 'The token carries no valid role.' };
    expect(await refusal(token({ role: 'root' }))).toEqual(noRole);
    expect(await refusal(token({ role: undefined }))).toEqual(noRole);
  });
});
