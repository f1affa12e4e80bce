import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/**
 * Signing keys as auth holds them and as the tools that set Galion up make them (the launcher's
 * key file, the benchmarks' keys): an Ed25519 or P-256 private key with its kid and public JWK.
 */
export type SigningAlgorithm = 'EdDSA' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export class SigningKeyError extends Error {
  override name = 'ConfigError';
}

const algorithmOf = (key: KeyObject): SigningAlgorithm => {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new SigningKeyError(`signing keys must be Ed25519 (EdDSA) or P-256 (ES256), got ${key.asymmetricKeyType}`);
};

const toSigningKey = async (privateKey: KeyObject, kid?: string): Promise<SigningKey> => {
  if (privateKey.type !== 'private') throw new SigningKeyError('a signing key must be a private key');
  const alg = algorithmOf(privateKey);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const keyId = kid ?? (await calculateJwkThumbprint(jwk));
  return { kid: keyId, alg, privateKey, publicJwk: { ...jwk, kid: keyId, alg, use: 'sig' } };
};

/** Reads keys from text: a JWKS (or one JWK) with private parts, or one or more PEM private keys. */
export const parseSigningKeys = async (text: string): Promise<SigningKey[]> => {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { keys?: JWK[] } & JWK;
    try {
      parsed = JSON.parse(trimmed) as { keys?: JWK[] } & JWK;
    } catch {
      throw new SigningKeyError('signing keys: the JSON is not valid');
    }
    const jwks = parsed.keys ?? [parsed];
    return Promise.all(
      jwks.map((jwk) => {
        if (!jwk.d) throw new SigningKeyError(`signing key ${jwk.kid ?? '(no kid)'} has no private part ("d")`);
        return toSigningKey(createPrivateKey({ key: jwk as never, format: 'jwk' }), jwk.kid);
      }),
    );
  }
  const pems = trimmed.match(/-----BEGIN (?:EC )?PRIVATE KEY-----[\s\S]+?-----END (?:EC )?PRIVATE KEY-----/g);
  if (!pems) throw new SigningKeyError('signing keys: expected a JWKS JSON document or PEM private keys');
  return Promise.all(pems.map((pem) => toSigningKey(createPrivateKey(pem))));
};

export const generateSigningKey = (): Promise<SigningKey> => toSigningKey(generateKeyPairSync('ed25519').privateKey);

/** The private JWK of a key, for writing a key file a deployer stores in a Secret. */
export const exportPrivateJwk = (key: SigningKey): JWK => ({
  ...(key.privateKey.export({ format: 'jwk' }) as JWK),
  kid: key.kid,
  alg: key.alg,
  use: 'sig',
});
