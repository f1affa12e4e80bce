import path from 'node:path';
import { env, loadConfig, z } from '@galion/kit';

/** The all-in-one mode's own settings; every service setting (AUTH_*, ...) passes through as well. */
export const allInOneEnvSchema = z.object({
  GALION_PORT: env.int(0, 65_535).default(8080).describe('port of the public API'),
  GALION_HOST: env.string().default('127.0.0.1').describe('address to listen on (`0.0.0.0` to reach it from other machines)'),
  GALION_DATA_DIR: env.string().optional().meta({
    description: "database files, the feed's Redis, media's images, the signing keys and the admin marker",
    unset: '`.galion/data` in the repository',
  }),
  GALION_ADMIN_EMAIL: z
    .email()
    .optional()
    .meta({ description: 'the first admin, with `GALION_ADMIN_PASSWORD`', unset: 'generated on first start' }),
  GALION_ADMIN_PASSWORD: env.string().optional().meta({ description: "the first admin's password", unset: 'generated on first start' }),
  GALION_PUBLIC_URL: env
    .url(['http', 'https'])
    .optional()
    .meta({ description: 'the URL clients use; the token issuer is derived from it', unset: '`http://localhost:<port>`' }),
  LOG_LEVEL: env.logLevel().default('warn').describe('`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'),
});

export interface AllInOneSettings {
  port: number;
  host: string;
  dataDir: string;
  admin: { email: string; password: string } | undefined;
  publicUrl: string | undefined;
  logLevel: string;
}

export const loadAllInOneSettings = (repoRoot: string, source: NodeJS.ProcessEnv = process.env): AllInOneSettings => {
  const e = loadConfig(
    allInOneEnvSchema.refine((value) => !value.GALION_ADMIN_EMAIL === !value.GALION_ADMIN_PASSWORD, {
      message: 'set both GALION_ADMIN_EMAIL and GALION_ADMIN_PASSWORD, or neither',
      path: ['GALION_ADMIN_PASSWORD'],
    }),
    source,
  );
  return {
    port: e.GALION_PORT,
    host: e.GALION_HOST,
    dataDir: path.resolve(e.GALION_DATA_DIR ?? path.join(repoRoot, '.galion', 'data')),
    admin: e.GALION_ADMIN_EMAIL && e.GALION_ADMIN_PASSWORD ? { email: e.GALION_ADMIN_EMAIL, password: e.GALION_ADMIN_PASSWORD } : undefined,
    publicUrl: e.GALION_PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
  };
};

/**
 * Users keeps a revocation of all of a user's tokens as long as auth makes them live: given only
 * auth's AUTH_ACCESS_TOKEN_TTL_SECONDS, the users service gets the same ACCESS_TOKEN_TTL_SECONDS
 * (the charts do this with global.accessTokenTtlSeconds).
 */
export const sharedTokenLifetime = (source: NodeJS.ProcessEnv): Record<string, string> =>
  source.AUTH_ACCESS_TOKEN_TTL_SECONDS && !source.ACCESS_TOKEN_TTL_SECONDS
    ? { ACCESS_TOKEN_TTL_SECONDS: source.AUTH_ACCESS_TOKEN_TTL_SECONDS }
    : {};
