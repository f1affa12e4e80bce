import { readFile } from 'node:fs/promises';
import { generateSigningKey, parseSigningKeys, SigningKeyError, type SigningKey } from '@galion/tokens';
import type { JWK } from 'jose';

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
