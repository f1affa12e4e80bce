import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateJwk, generateSigningKey } from '@galion/tokens';

/**
 * The signing key of this installation, made once and kept in the data folder, so tokens stay
 * valid across restarts. The file is readable by its owner only.
 */
export const ensureSigningKeyFile = async (dataDir: string): Promise<{ file: string; created: boolean }> => {
  const file = path.join(dataDir, 'keys', 'jwks.json');
  if (existsSync(file)) return { file, created: false };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = await generateSigningKey();
  await writeFile(file, `${JSON.stringify({ keys: [exportPrivateJwk(key)] }, null, 2)}\n`, { mode: 0o600 });
  return { file, created: true };
};

/**
 * A secret of this installation (`name`: a file under keys/), made once of 32 random bytes and kept
 * readable by its owner only, so what it signs stays valid across restarts: media's signed URLs.
 */
export const ensureSecretFile = async (dataDir: string, name: string): Promise<string> => {
  const file = path.join(dataDir, 'keys', name);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
};

/**
 * The first admin: the configured one, or on the very first start a generated one whose
 * password is shown once. Only the email is remembered, never the password.
 */
export const firstAdmin = async (dataDir: string, configured: { email: string; password: string } | undefined): Promise<FirstAdmin> => {
  const marker = path.join(dataDir, 'admin-email');
  const remember = (email: string) => () => writeFile(marker, `${email}\n`, { mode: 0o600 });
  if (configured) return { ...configured, generated: false, remember: remember(configured.email) };
  if (existsSync(marker)) return { email: (await readFile(marker, 'utf8')).trim(), generated: false, remember: async () => undefined };
  const email = 'admin@galion.local';
  return { email, password: randomBytes(12).toString('base64url'), generated: true, remember: remember(email) };
};

export interface FirstAdmin {
  email: string;
  /** Known only when configured, or generated on this start. */
  password?: string;
  generated: boolean;
  /** Records the admin's email once the account exists. */
  remember(): Promise<void>;
}
