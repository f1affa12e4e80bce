import { commonEnv, env, loadConfig, portEnv, readCommonConfig, readRedisUrl, redisEnv, z, type CommonConfig } from '@galion/kit';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';
import upstreams from './upstreams.json';

/**
 * The services behind the gateway, each with the prefix it serves under: those of services.json,
 * written to upstreams.json by scripts/gen-gateway-routes.mjs (the image carries that file). Each
 * has its settings in the schema below, named after it: AUTH_URL, AUTH_UPSTREAM_TIMEOUT_MS, ...
 */
export const UPSTREAMS: readonly { name: string; prefix: string }[] = upstreams;
export type UpstreamName = string;
type UpstreamSetting = 'URL' | 'UPSTREAM_TIMEOUT_MS' | 'UPSTREAM_MAX_IN_FLIGHT';
/** `AUTH_URL` is auth's `URL`. */
export const upstreamSetting = (name: UpstreamName, setting: UpstreamSetting): string => `${name.toUpperCase().replace(/-/g, '_')}_${setting}`;

/** Every setting of the gateway, read from the environment (docs/gateway.md: Configuration). */
export const gatewayEnvSchema = z.object({
  ...commonEnv,
  ...verifierEnv,
  PORT: portEnv(8080),
  AUTH_URL: env
    .url(['http', 'https'])
    .describe('where auth answers `/api/v1/auth/...` (paths are not rewritten); also the default JWKS location'),
  USERS_URL: env.url(['http', 'https']).describe('where users answers `/api/v1/users/...`'),
  ANALYTICS_URL: env.url(['http', 'https']).describe('where analytics answers `/api/v1/analytics/...`'),
  POSTS_URL: env.url(['http', 'https']).describe('where posts answers `/api/v1/posts/...`'),
  FEED_URL: env.url(['http', 'https']).describe('where feed answers `/api/v1/feed/...`'),
  MEDIA_URL: env.url(['http', 'https']).describe('where media answers `/api/v1/media/...`'),
  ...redisEnv,
  RATE_LIMIT_ENABLED: env.bool().default(true).describe('rate limiting on or off'),
  RATE_LIMIT_WINDOW_SECONDS: env.int(1, 86_400).default(60).describe('window of the per-IP and per-user limits'),
  RATE_LIMIT_PER_IP: env.int(1, 10_000_000).default(300).describe('requests per window of anonymous traffic, per IP'),
  RATE_LIMIT_PER_USER: env.int(1, 10_000_000).default(600).describe('requests per window of signed-in traffic, per user'),
  RATE_LIMIT_AUTH_PER_IP: env
    .int(1, 10_000_000)
    .default(20)
    .describe('the stricter limit on login, register, password reset and email verification: requests per window, per IP'),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: env.int(1, 86_400).default(60).describe('window of that stricter limit'),
  RATE_LIMIT_FAIL_OPEN: env
    .bool()
    .default(true)
    .describe('when Redis is down, let requests through (counted in `gateway_rate_limit_store_errors_total`) instead of answering 503'),
  RATE_LIMIT_HEADERS: z.enum(['draft-7', 'draft-8']).default('draft-8').describe('`RateLimit` header style: `draft-7` or `draft-8`'),
  UPSTREAM_TIMEOUT_MS: env.int(100, 600_000).default(10_000).describe('time an upstream gets to send its response headers, counted from the last byte of the request body sent to it (504 after)'),
  AUTH_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "auth's own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  USERS_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "users' own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  ANALYTICS_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "analytics' own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  POSTS_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "posts' own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  FEED_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "feed's own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  MEDIA_UPSTREAM_TIMEOUT_MS: env
    .int(100, 600_000)
    .optional()
    .meta({ description: "media's own `UPSTREAM_TIMEOUT_MS`", unset: '`UPSTREAM_TIMEOUT_MS`' }),
  // At a healthy 20 ms an answer, 128 at once is 6,400 requests/s, more than a gateway process
  // sends: the bound only bites when the upstream slows down, and then keeps its queue short.
  UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .default(128)
    .describe(
      'requests sent to one upstream at once; past it `503 upstream_overloaded` with `Retry-After: 1` at once (counted in `gateway_upstream_shed_total{upstream}`; `0`: no bound)',
    ),
  AUTH_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "auth's own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  USERS_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "users' own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  ANALYTICS_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "analytics' own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  POSTS_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "posts' own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  FEED_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "feed's own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  MEDIA_UPSTREAM_MAX_IN_FLIGHT: env
    .int(0, 1_000_000)
    .optional()
    .meta({ description: "media's own `UPSTREAM_MAX_IN_FLIGHT`", unset: '`UPSTREAM_MAX_IN_FLIGHT`' }),
  UPSTREAM_MAX_SOCKETS: env.int(1, 100_000).optional().meta({ description: 'connections to one upstream at most', unset: 'unlimited' }),
  UPSTREAM_MAX_FREE_SOCKETS: env.int(1, 100_000).default(256).describe('idle keep-alive connections kept per upstream'),
  // Below the services' drain delay (SHUTDOWN_DRAIN_DELAY_MS, 5 s in the chart): a draining pod
  // then never has to cut a connection of the gateway's that is idle, a cut that can race with a
  // request the gateway is sending on it (kit: endKeepAlive).
  UPSTREAM_IDLE_TIMEOUT_MS: env
    .int(100, 600_000)
    .default(3_000)
    .describe("an idle keep-alive connection to an upstream is closed after this long; keep it below the services' `SHUTDOWN_DRAIN_DELAY_MS`"),
  UPSTREAM_CONNECT_TIMEOUT_MS: env
    .int(50, 60_000)
    .default(2_000)
    .describe(
      'time a new connection to an upstream gets to open; past it, or when it is refused, the request goes once more on another connection (any method: nothing was sent yet), then `503 upstream_unavailable`',
    ),
  BREAKER_ENABLED: env.bool().default(true).describe('per-upstream circuit breakers on or off'),
  BREAKER_FAILURE_RATIO: env.number(0.01, 1).default(0.5).describe('failure ratio over the window that opens a breaker'),
  BREAKER_MIN_REQUESTS: env.int(1, 100_000).default(20).describe('calls in the window before the ratio counts'),
  BREAKER_WINDOW_MS: env.int(1_000, 600_000).default(10_000).describe('rolling window of the failure ratio'),
  BREAKER_COOLDOWN_MS: env
    .int(100, 600_000)
    .default(5_000)
    .describe('time a breaker stays open before it lets a probe through (half-open)'),
  OPENAPI_CACHE_TTL_SECONDS: env.int(0, 86_400).default(60).describe('how long the merged OpenAPI document is kept'),
  READINESS_TIMEOUT_MS: env
    .int(50, 10_000)
    .default(1_000)
    .describe("time each upstream gets to answer the gateway's readiness check (`/readyz`)"),
  WEB_APP_DIR: env.string().optional().meta({
    description: "the web app's build (a Vite `dist` folder) to serve at `/`",
    unset: 'the build of `@galion/web` (apps/web/dist), if built',
  }),
  WEB_APP_ENABLED: env.bool().default(true).describe('serve the web app at `/` (`false`: an API-only edge)'),
});

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export interface UpstreamConfig {
  name: UpstreamName;
  /** Base URL of the service; requests keep their path (`/api/v1/<name>/...`). */
  url: string;
  /** Public path prefix the service serves. */
  prefix: string;
  timeoutMs: number;
  /** Time a new connection gets to open. */
  connectTimeoutMs: number;
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
  agent: { maxSockets: number | undefined; maxFreeSockets: number; idleTimeoutMs: number };
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
  const own = (name: UpstreamName, setting: UpstreamSetting): unknown => {
    const key = upstreamSetting(name, setting);
    // An upstream without its settings would be routed nowhere.
    if (!(key in gatewayEnvSchema.shape)) throw new Error(`the gateway routes to ${name} but has no ${key} setting: add it to gatewayEnvSchema`);
    return (e as Record<string, unknown>)[key];
  };
  return {
    ...readCommonConfig(e),
    upstreams: UPSTREAMS.map(({ name, prefix }) => ({
      name,
      url: trimSlash(own(name, 'URL') as string),
      prefix,
      timeoutMs: (own(name, 'UPSTREAM_TIMEOUT_MS') as number | undefined) ?? e.UPSTREAM_TIMEOUT_MS,
      connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      maxInFlight: (own(name, 'UPSTREAM_MAX_IN_FLIGHT') as number | undefined) ?? e.UPSTREAM_MAX_IN_FLIGHT,
    })),
    agent: { maxSockets: e.UPSTREAM_MAX_SOCKETS, maxFreeSockets: e.UPSTREAM_MAX_FREE_SOCKETS, idleTimeoutMs: e.UPSTREAM_IDLE_TIMEOUT_MS },
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
