import { env, z, type KeyValueStore, type Logger } from '@galion/kit';
import { StoreDenylist, type Denylist } from './denylist.js';
import { RemoteJwks, type KeySource } from './jwks.js';
import { TokenVerifier } from './verifier.js';

/** Environment of every service that verifies access tokens (README: Configuration). */
export const verifierEnv = {
  PUBLIC_BASE_URL: env
    .url(['http', 'https'])
    .default('http://localhost:8080')
    .describe('public URL of the platform; tokens must be issued by `<PUBLIC_BASE_URL>/api/v1/auth` unless `JWT_ISSUER` says otherwise'),
  AUTH_JWKS_URL: env.url(['http', 'https']).optional().meta({
    description:
      'where access-token keys are fetched (cached, refetched for an unknown `kid`); analytics has no `AUTH_URL` and needs it, unless the keys are given in-process (`npm start`)',
    unset: '`<AUTH_URL>/api/v1/auth/.well-known/jwks.json`',
  }),
  JWT_ISSUER: env
    .url(['http', 'https'])
    .optional()
    .meta({ description: 'the `iss` tokens must have', unset: '`<PUBLIC_BASE_URL>/api/v1/auth`' }),
  JWT_AUDIENCE: env.string().default('galion').describe('the `aud` tokens must have'),
  JWKS_CACHE_TTL_SECONDS: env.int(1, 86_400).default(300).describe('how long fetched keys count as fresh'),
  TOKEN_CACHE_MAX_ENTRIES: env
    .int(0, 10_000_000)
    .default(10_000)
    .describe(
      "tokens whose signature and claims verified are remembered, so each service checks a client's signature once, not on every request (the denylist is still asked every time; `0`: verify every time)",
    ),
  TOKEN_CACHE_MAX_AGE_SECONDS: env.int(1, 3_600).default(60).describe('longest a verified token is remembered (never past its expiry)'),
};

/**
 * How long access tokens live. Auth signs them for this long (AUTH_ACCESS_TOKEN_TTL_SECONDS) and
 * users makes a revocation of all of a user's tokens last as long (ACCESS_TOKEN_TTL_SECONDS): one
 * schema for both, so their ranges and defaults cannot drift apart. Each adds its description.
 */
export const accessTokenTtlEnv = env.int(30, 86_400).default(900);

export interface VerifierConfig {
  /** Undefined when keys are injected in-process (all-in-one). */
  jwksUrl: string | undefined;
  issuer: string;
  audience: string;
  cacheTtlMs: number;
  /** Verified tokens kept in memory (0 entries: verify every time). */
  tokenCache: { maxEntries: number; maxAgeMs: number };
}

/** The verified-token cache's settings (TOKEN_CACHE_*), for a service that reads them beside its own. */
export const readTokenCacheConfig = (values: {
  TOKEN_CACHE_MAX_ENTRIES: number;
  TOKEN_CACHE_MAX_AGE_SECONDS: number;
}): VerifierConfig['tokenCache'] => ({
  maxEntries: values.TOKEN_CACHE_MAX_ENTRIES,
  maxAgeMs: values.TOKEN_CACHE_MAX_AGE_SECONDS * 1000,
});

export const readVerifierConfig = (values: z.infer<z.ZodObject<typeof verifierEnv>>): VerifierConfig => ({
  jwksUrl: values.AUTH_JWKS_URL,
  issuer: values.JWT_ISSUER ?? `${values.PUBLIC_BASE_URL.replace(/\/+$/, '')}/api/v1/auth`,
  audience: values.JWT_AUDIENCE,
  cacheTtlMs: values.JWKS_CACHE_TTL_SECONDS * 1000,
  tokenCache: readTokenCacheConfig(values),
});

/**
 * The verifier of a service: keys from the injected source (all-in-one) or auth's JWKS, and the
 * shared denylist so logout and deletion take effect at once. `denylist` replaces the one on
 * `store` (e.g. one that tolerates Redis outages).
 */
export const createTokenVerifier = (
  config: VerifierConfig,
  options: { keys?: KeySource; store?: KeyValueStore; logger: Logger; denylist?: Denylist },
): TokenVerifier => {
  const keys =
    options.keys ??
    (config.jwksUrl ? new RemoteJwks({ url: config.jwksUrl, ttlMs: config.cacheTtlMs, logger: options.logger }) : undefined);
  if (!keys) throw new Error('AUTH_JWKS_URL: not set, and no key source was given');
  return new TokenVerifier({
    keys,
    issuer: config.issuer,
    audience: config.audience,
    cache: config.tokenCache,
    ...(options.denylist ? { denylist: options.denylist } : options.store ? { denylist: new StoreDenylist(options.store) } : {}),
  });
};
