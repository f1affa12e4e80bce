import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * The keys auth signs with: one active key signs, every key verifies, so a new key can be
 * published in the JWKS before it signs and an old one kept until its tokens have expired.
 */
export class SigningKeyRing {
  constructor(
    readonly keys: SigningKey[],
    readonly active: SigningKey,
  ) {}

  publicJwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }
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

export interface SigningKeySource {
  file?: string | undefined;
  inline?: string | undefined;
  activeKid?: string | undefined;
  generate?: boolean;
}

export const loadSigningKeys = async (source: SigningKeySource): Promise<{ ring: SigningKeyRing; generated: boolean }> => {
  const keys: SigningKey[] = [];
  if (source.file) {
    const text = await readFile(source.file, 'utf8').catch((error: Error) => {
      throw new SigningKeyError(`AUTH_JWT_KEYS_FILE: cannot read ${source.file}: ${error.message}`);
    });
    keys.push(...(await parseSigningKeys(text)));
  }
  if (source.inline) keys.push(...(await parseSigningKeys(source.inline)));
  const generated = keys.length === 0 && source.generate === true;
  if (generated) keys.push(await generateSigningKey());
  if (keys.length === 0) throw new SigningKeyError('no signing key configured (AUTH_JWT_KEYS_FILE or AUTH_JWT_KEYS)');
  const active = source.activeKid ? keys.find((key) => key.kid === source.activeKid) : keys[0];
  if (!active) throw new SigningKeyError(`AUTH_JWT_ACTIVE_KID: no configured key has kid ${source.activeKid}`);
  return { ring: new SigningKeyRing(keys, active), generated };
};
