import { generateKeyPairSync } from 'node:crypto';
import { exportPrivateJwk, generateSigningKey, parseSigningKeys } from '@galion/tokens';

describe('signing keys', () => {
  it('when keys come as PEM and as JWK, then both load with their algorithms and thumbprint kids', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const fromPem = await parseSigningKeys(ed);
    const fromJwk = await parseSigningKeys(JSON.stringify({ keys: [{ ...ec, kid: 'ec-1' }] }));
    expect(fromPem[0]).toMatchObject({ alg: 'EdDSA', kid: expect.stringMatching(/^[\w-]{43}$/) });
    expect(fromJwk[0]).toMatchObject({ alg: 'ES256', kid: 'ec-1' });
  });

  it('when a key is public only or of another type, then loading fails clearly', async () => {
    const publicJwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    await expect(parseSigningKeys(JSON.stringify(publicJwk))).rejects.toThrow(/private part/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(parseSigningKeys(rsa)).rejects.toThrow(/Ed25519|P-256/);
  });

  it('when a generated key is written as a key file, then reading the file gives the same key back', async () => {
    const key = await generateSigningKey();
    const file = JSON.stringify({ keys: [exportPrivateJwk(key)] });

    const [read] = await parseSigningKeys(file);

    expect(read).toMatchObject({ kid: key.kid, alg: 'EdDSA', publicJwk: key.publicJwk });
    expect(JSON.parse(file).keys[0]).toMatchObject({ kid: key.kid, alg: 'EdDSA', use: 'sig', d: expect.any(String) });
  });
});
