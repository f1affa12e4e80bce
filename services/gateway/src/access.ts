import type { RateLimitPolicy } from './rate-limit.js';

/** What the gateway asks of a request before it reaches an upstream. */
export interface RouteAccess {
  /** Passes without a bearer token. */
  public: boolean;
  /** The rate-limit policy for it (authenticated requests always count per user). */
  policy: RateLimitPolicy;
}

interface PublicRoute {
  methods: ReadonlySet<string>;
  path: RegExp;
  policy: RateLimitPolicy;
}

const GET = new Set(['GET', 'HEAD']);

/**
 * The routes that pass without a token. Everything else under a service prefix needs a valid
 * bearer token at the gateway (secure by default: a new public route must be added here).
 */
export const PUBLIC_ROUTES: readonly PublicRoute[] = [
  // Credentials or mailed tokens in: the stricter per-IP `auth` policy (brute force, mail flooding).
  {
    methods: new Set(['POST']),
    path: /^\/api\/v1\/auth\/(register|login|password\/forgot|password\/reset|email\/verify)$/,
    policy: 'auth',
  },
  // A refresh token is 256 random bits, nothing to guess: refreshes count under the per-IP policy,
  // so that a browser's page loads and tabs (each refreshes once) do not eat the login budget.
  { methods: new Set(['POST']), path: /^\/api\/v1\/auth\/refresh$/, policy: 'ip' },
  // JWKS and discovery.
  { methods: GET, path: /^\/api\/v1\/auth\/\.well-known\/[^/]+$/, policy: 'ip' },
  // Each service's own OpenAPI document.
  { methods: GET, path: /^\/api\/v1\/(auth|users|analytics)\/openapi\.json$/, policy: 'ip' },
];

/** CORS preflights and `Allow` discovery carry no credentials and touch no data. */
const ALWAYS_PUBLIC_METHODS = new Set(['OPTIONS']);

export const routeAccess = (method: string, path: string): RouteAccess => {
  if (ALWAYS_PUBLIC_METHODS.has(method)) return { public: true, policy: 'ip' };
  const route = PUBLIC_ROUTES.find((candidate) => candidate.methods.has(method) && candidate.path.test(path));
  return route ? { public: true, policy: route.policy } : { public: false, policy: 'user' };
};
