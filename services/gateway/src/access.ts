import { UPSTREAMS } from './config.js';
import publicRoutes from './public-routes.json';
import type { RateLimitPolicy } from './rate-limit.js';

/** What the gateway asks of a request before it reaches an upstream. */
export interface RouteAccess {
  /** Passes without a bearer token. */
  public: boolean;
  /** The rate-limit policy for it (authenticated requests always count per user). */
  policy: RateLimitPolicy;
  /** A public route that also takes a bearer token: when one is sent, it is verified and counts per user. */
  optionalToken?: boolean;
  /** The route's own body limit (its declaration's), else the gateway's BODY_LIMIT. */
  bodyLimit?: string;
}

interface PublicRoute {
  methods: ReadonlySet<string>;
  path: RegExp;
  policy: RateLimitPolicy;
  optionalToken: boolean;
  bodyLimit?: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `/api/v1/users/{id}` → a pattern with one path segment where each parameter is. */
const templatePattern = (template: string): RegExp =>
  new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map(escapeRegExp)
      .join('[^/]+')}$`,
  );

/**
 * The routes that pass without a token. Everything else under a service prefix needs a valid
 * bearer token at the gateway (secure by default). The table is generated from the routes' own
 * declarations (`access: { public: 'auth' | 'ip' }`, scripts/gen-public-routes.mjs): credentials
 * and mailed tokens count under the stricter per-IP `auth` policy, the rest (refresh tokens are
 * 256 random bits, JWKS and discovery) under `ip`.
 */
export const PUBLIC_ROUTES: readonly PublicRoute[] = [
  // Each service's own OpenAPI document, served by the kit beside the routes. First, as each service
  // serves it before its routes: `/api/v1/posts/openapi.json` is the document, not the post `{id}`.
  ...UPSTREAMS.map(({ prefix }) => ({
    methods: new Set(['GET', 'HEAD']),
    path: templatePattern(`${prefix}/openapi.json`),
    policy: 'ip' as const,
    optionalToken: false,
  })),
  ...(publicRoutes as { method: string; path: string; policy: RateLimitPolicy; token?: 'optional'; bodyLimit?: string }[]).map(
    (route) => ({
      methods: new Set(route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]),
      path: templatePattern(route.path),
      policy: route.policy,
      optionalToken: route.token === 'optional',
      ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
    }),
  ),
];

/** CORS preflights and `Allow` discovery carry no credentials and touch no data. */
const ALWAYS_PUBLIC_METHODS = new Set(['OPTIONS']);

export const routeAccess = (method: string, path: string): RouteAccess => {
  if (ALWAYS_PUBLIC_METHODS.has(method)) return { public: true, policy: 'ip' };
  const route = PUBLIC_ROUTES.find((candidate) => candidate.methods.has(method) && candidate.path.test(path));
  if (!route) return { public: false, policy: 'user' };
  return {
    public: true,
    policy: route.policy,
    ...(route.optionalToken ? { optionalToken: true } : {}),
    ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
  };
};
