import { commonEnv, env, loadConfig, readCommonConfig, readRedisUrl, redisEnv, z, type CommonConfig } from '@galion/kit';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

/** The services behind the gateway; each serves its routes under `/api/v1/<name>`. */
export const UPSTREAM_NAMES = ['auth', 'users', 'analytics'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

/** Every setting of the gateway, read from the environment (docs/gateway.md: Configuration). */
export const gatewayEnvSchema = z.object({
  ...commonEnv,
  ...verifierEnv,
  PORT: env.int(0, 65_535).default(8080),
  AUTH_URL: env.url(['http', 'https']),
  USERS_URL: env.url(['http', 'https']),
  ANALYTICS_URL: env.url(['http', 'https']),
  ...redisEnv,
  RATE_LIMIT_ENABLED: env.bool().default(true),
  RATE_LIMIT_WINDOW_SECONDS: env.int(1, 86_400).default(60),
  RATE_LIMIT_PER_IP: env.int(1, 10_000_000).default(300),
  RATE_LIMIT_PER_USER: env.int(1, 10_000_000).default(600),
  RATE_LIMIT_AUTH_PER_IP: env.int(1, 10_000_000).default(20),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: env.int(1, 86_400).default(60),
  RATE_LIMIT_FAIL_OPEN: env.bool().default(true),
  RATE_LIMIT_HEADERS: z.enum(['draft-7', 'draft-8']).default('draft-8'),
  UPSTREAM_TIMEOUT_MS: env.int(100, 600_000).default(10_000),
  AUTH_UPSTREAM_TIMEOUT_MS: env.int(100, 600_000).optional(),
  USERS_UPSTREAM_TIMEOUT_MS: env.int(100, 600_000).optional(),
  ANALYTICS_UPSTREAM_TIMEOUT_MS: env.int(100, 600_000).optional(),
  // At a healthy 20 ms an answer, 128 at once is 6,400 requests/s, more than a gateway process
  // sends: the bound only bites when the upstream slows down, and then keeps its queue short.
  UPSTREAM_MAX_IN_FLIGHT: env.int(0, 1_000_000).default(128),
  AUTH_UPSTREAM_MAX_IN_FLIGHT: env.int(0, 1_000_000).optional(),
  USERS_UPSTREAM_MAX_IN_FLIGHT: env.int(0, 1_000_000).optional(),
  ANALYTICS_UPSTREAM_MAX_IN_FLIGHT: env.int(0, 1_000_000).optional(),
  UPSTREAM_MAX_SOCKETS: env.int(1, 100_000).optional(),
  UPSTREAM_MAX_FREE_SOCKETS: env.int(1, 100_000).default(256),
  BREAKER_ENABLED: env.bool().default(true),
  BREAKER_FAILURE_RATIO: env.number(0.01, 1).default(0.5),
  BREAKER_MIN_REQUESTS: env.int(1, 100_000).default(20),
  BREAKER_WINDOW_MS: env.int(1_000, 600_000).default(10_000),
  BREAKER_COOLDOWN_MS: env.int(100, 600_000).default(5_000),
  OPENAPI_CACHE_TTL_SECONDS: env.int(0, 86_400).default(60),
  READINESS_TIMEOUT_MS: env.int(50, 10_000).default(1_000),
  // The web app's build (apps/web/dist); by default the one that ships with the gateway, if built.
  WEB_APP_DIR: env.string().optional(),
  WEB_APP_ENABLED: env.bool().default(true),
});

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export interface UpstreamConfig {
  name: UpstreamName;
  /** Base URL of the service; requests keep their path (`/api/v1/<name>/...`). */
  url: string;
  /** Public path prefix the service serves. */
  prefix: string;
  timeoutMs: number;
  /** Requests sent to this upstream at once at most; past it 503 upstream_overloaded (0: no bound). */
  maxInFlight: number;
}

export interface RateLimitConfig {
  enabled: boolean;
  windowMs: number;
  perIp: number;
  perUser: number;
  authPerIp: number;
  authWindowMs: number;
  failOpen: boolean;
  headers: 'draft-7' | 'draft-8';
}

export interface BreakerConfig {
  enabled: boolean;
  failureRatio: number;
  minRequests: number;
  windowMs: number;
  cooldownMs: number;
}

export interface GatewayConfig extends CommonConfig {
  upstreams: UpstreamConfig[];
  agent: { maxSockets: number | undefined; maxFreeSockets: number };
  /** JWKS at AUTH_JWKS_URL, by default auth's own under AUTH_URL. */
  verifier: VerifierConfig & { jwksUrl: string };
  redisUrl: string | undefined;
  rateLimit: RateLimitConfig;
  breaker: BreakerConfig;
  openApiCacheTtlMs: number;
  readinessTimeoutMs: number;
  webApp: { enabled: boolean; dir: string | undefined };
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => {
  const e = loadConfig(gatewayEnvSchema, source);
  const verifier = readVerifierConfig(e);
  const urls: Record<UpstreamName, string> = { auth: e.AUTH_URL, users: e.USERS_URL, analytics: e.ANALYTICS_URL };
  const timeouts: Record<UpstreamName, number | undefined> = {
    auth: e.AUTH_UPSTREAM_TIMEOUT_MS,
    users: e.USERS_UPSTREAM_TIMEOUT_MS,
    analytics: e.ANALYTICS_UPSTREAM_TIMEOUT_MS,
  };
  const maxInFlight: Record<UpstreamName, number | undefined> = {
    auth: e.AUTH_UPSTREAM_MAX_IN_FLIGHT,
    users: e.USERS_UPSTREAM_MAX_IN_FLIGHT,
    analytics: e.ANALYTICS_UPSTREAM_MAX_IN_FLIGHT,
  };
  return {
    ...readCommonConfig(e),
    upstreams: UPSTREAM_NAMES.map((name) => ({
      name,
      url: trimSlash(urls[name]),
      prefix: `/api/v1/${name}`,
      timeoutMs: timeouts[name] ?? e.UPSTREAM_TIMEOUT_MS,
      maxInFlight: maxInFlight[name] ?? e.UPSTREAM_MAX_IN_FLIGHT,
    })),
    agent: { maxSockets: e.UPSTREAM_MAX_SOCKETS, maxFreeSockets: e.UPSTREAM_MAX_FREE_SOCKETS },
    verifier: { ...verifier, jwksUrl: verifier.jwksUrl ?? `${trimSlash(e.AUTH_URL)}/api/v1/auth/.well-known/jwks.json` },
    redisUrl: readRedisUrl(e),
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perIp: e.RATE_LIMIT_PER_IP,
      perUser: e.RATE_LIMIT_PER_USER,
      authPerIp: e.RATE_LIMIT_AUTH_PER_IP,
      authWindowMs: e.RATE_LIMIT_AUTH_WINDOW_SECONDS * 1000,
      failOpen: e.RATE_LIMIT_FAIL_OPEN,
      headers: e.RATE_LIMIT_HEADERS,
    },
    breaker: {
      enabled: e.BREAKER_ENABLED,
      failureRatio: e.BREAKER_FAILURE_RATIO,
      minRequests: e.BREAKER_MIN_REQUESTS,
      windowMs: e.BREAKER_WINDOW_MS,
      cooldownMs: e.BREAKER_COOLDOWN_MS,
    },
    openApiCacheTtlMs: e.OPENAPI_CACHE_TTL_SECONDS * 1000,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    webApp: { enabled: e.WEB_APP_ENABLED, dir: e.WEB_APP_DIR },
  };
};
