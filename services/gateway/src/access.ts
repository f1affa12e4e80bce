import { UPSTREAMS } from './config.js';
import gatewayRoutes from './gateway-routes.json';
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
  /**
   * A path the services serve, but not with this method: the methods they do serve (its `Allow`).
   * The gateway answers 405 itself, counted per IP; no token is asked for a call no route takes.
   */
  allow?: string[];
}

interface KnownRoute {
  methods: ReadonlySet<string>;
  /** The declared path, `/api/v1/users/{id}`. */
  template: string;
  path: RegExp;
  /** Absent: the route needs a token. */
  policy?: RateLimitPolicy;
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
 * The services' routes, as the gateway must know them before it proxies: which pass without a
 * token, and which have their own body limit. A route not declared public, and any path under a
 * service prefix that no route serves, needs a valid bearer token at the gateway (secure by
 * default); a method that a served path does not take is answered 405 by the gateway itself, as
 * its service would; a route without its own limit has the gateway's BODY_LIMIT. The table is generated
 * from the routes' own declarations (scripts/gen-gateway-routes.mjs), each service's concrete
 * paths before the templates that also match them (`/posts/mine` before `/posts/{id}`), so the
 * first match is the route that serves. Credentials and mailed tokens count under the stricter
 * per-IP `auth` policy, the other public routes (refresh tokens are 256 random bits, JWKS and
 * discovery) under `ip`.
 */
export const KNOWN_ROUTES: readonly KnownRoute[] = [
  // Each service's own OpenAPI document, served by the kit beside the routes. First, as each service
  // serves it before its routes: `/api/v1/posts/openapi.json` is the document, not the post `{id}`.
  ...UPSTREAMS.map(({ prefix }) => ({
    methods: new Set(['GET', 'HEAD']),
    template: `${prefix}/openapi.json`,
    path: templatePattern(`${prefix}/openapi.json`),
    policy: 'ip' as const,
    optionalToken: false,
  })),
  ...(gatewayRoutes as { method: string; path: string; policy?: RateLimitPolicy; token?: 'optional'; bodyLimit?: string }[]).map(
    (route) => ({
      methods: new Set(route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]),
      template: route.path,
      path: templatePattern(route.path),
      ...(route.policy ? { policy: route.policy } : {}),
      optionalToken: route.token === 'optional',
      ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
    }),
  ),
];

/** CORS preflights and `Allow` discovery carry no credentials and touch no data. */
const ALWAYS_PUBLIC_METHODS = new Set(['OPTIONS']);

/** The known routes by declared path, in table order, each with the methods it is served with (its `Allow`). */
const TEMPLATES = [...new Set(KNOWN_ROUTES.map((route) => route.template))].map((template) => {
  const routes = KNOWN_ROUTES.filter((route) => route.template === template);
  return { path: routes[0]!.path, routes, allow: [...new Set(routes.flatMap((route) => [...route.methods]))] };
});

/** The template that serves `path`: the first that matches it (a concrete path before a template that also matches it, as the services route). */
const servingTemplate = (path: string) => TEMPLATES.find((template) => template.path.test(path));

/** The methods the route serving `path` answers, as its service says in `Allow`; none when no route serves the path. */
export const allowedMethods = (path: string): string[] => servingTemplate(path)?.allow ?? [];

export const routeAccess = (method: string, path: string): RouteAccess => {
  if (ALWAYS_PUBLIC_METHODS.has(method)) return { public: true, policy: 'ip' };
  const serving = servingTemplate(path);
  const route = serving?.routes.find((candidate) => candidate.methods.has(method));
  if (serving && !route) return { public: true, policy: 'ip', allow: serving.allow };
  if (!route?.policy) return { public: false, policy: 'user', ...(route?.bodyLimit ? { bodyLimit: route.bodyLimit } : {}) };
  return {
    public: true,
    policy: route.policy,
    ...(route.optionalToken ? { optionalToken: true } : {}),
    ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
  };
};
