import { ConfigError } from '@galion/kit';
import { CircuitBreaker } from '../src/breaker';
import { chain } from '../src/chain';
import { loadGatewayConfig } from '../src/config';
import { routeAccess } from '../src/access';
import { isValidTraceparent, newTraceparent } from '../src/headers';
import { mergeOpenApi } from '../src/openapi';
import type { Request, RequestHandler, Response } from 'express';

const UPSTREAMS = {
  AUTH_URL: 'http://auth:8080',
  USERS_URL: 'http://users:8080',
  ANALYTICS_URL: 'http://analytics:8080',
  POSTS_URL: 'http://posts:8080',
  FEED_URL: 'http://feed:8080',
  MEDIA_URL: 'http://media:8080',
};

describe('configuration', () => {
  it('when an upstream URL is missing, then start-up fails naming the variable', () => {
    expect(() => loadGatewayConfig({ AUTH_URL: 'http://auth:8080', USERS_URL: 'http://users:8080' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ AUTH_URL: 'http://auth:8080', USERS_URL: 'http://users:8080' })).toThrow(/ANALYTICS_URL/);
  });

  it('when a setting is not valid, then the message names it', () => {
    expect(() => loadGatewayConfig({ ...UPSTREAMS, RATE_LIMIT_FAIL_OPEN: 'maybe' })).toThrow(/RATE_LIMIT_FAIL_OPEN: must be true or false/);
    expect(() => loadGatewayConfig({ ...UPSTREAMS, BREAKER_FAILURE_RATIO: '2' })).toThrow(/BREAKER_FAILURE_RATIO/);
    expect(() => loadGatewayConfig({ ...UPSTREAMS, USERS_URL: 'users:8080' })).toThrow(/USERS_URL: must be a URL/);
  });

  it('when only the upstreams are set, then the defaults follow them: port 8080, JWKS at auth, issuer from the public URL', () => {
    const config = loadGatewayConfig({ ...UPSTREAMS, AUTH_URL: 'http://auth:8080/' });
    expect(config.port).toBe(8080);
    expect(config.verifier.jwksUrl).toBe('http://auth:8080/api/v1/auth/.well-known/jwks.json');
    expect(config.verifier.issuer).toBe('http://localhost:8080/api/v1/auth');
    expect(config.verifier.audience).toBe('galion');
    expect(config.rateLimit.failOpen).toBe(true);
    expect(config.upstreams.map((u) => [u.name, u.url, u.prefix])).toEqual([
      ['auth', 'http://auth:8080', '/api/v1/auth'],
      ['users', 'http://users:8080', '/api/v1/users'],
      ['analytics', 'http://analytics:8080', '/api/v1/analytics'],
      ['posts', 'http://posts:8080', '/api/v1/posts'],
      ['feed', 'http://feed:8080', '/api/v1/feed'],
      ['media', 'http://media:8080', '/api/v1/media'],
    ]);
  });

  it('when a per-upstream timeout and REDIS_PASSWORD are set, then they are used', () => {
    const config = loadGatewayConfig({
      ...UPSTREAMS,
      UPSTREAM_TIMEOUT_MS: '2000',
      ANALYTICS_UPSTREAM_TIMEOUT_MS: '30000',
      REDIS_URL: 'redis://redis:6379',
      REDIS_PASSWORD: 'p@ss',
      PUBLIC_BASE_URL: 'https://api.example.com',
    });
    expect(config.upstreams.map((u) => u.timeoutMs)).toEqual([2000, 2000, 30000, 2000, 2000, 2000]);
    expect(config.redisUrl).toBe('redis://:p%40ss@redis:6379');
    expect(config.verifier.issuer).toBe('https://api.example.com/api/v1/auth');
  });

  it("when UPSTREAM_MAX_IN_FLIGHT and one upstream's own bound are set, then that upstream has its own and the others the shared one", () => {
    expect(loadGatewayConfig(UPSTREAMS).upstreams.map((u) => u.maxInFlight)).toEqual([128, 128, 128, 128, 128, 128]);
    const config = loadGatewayConfig({ ...UPSTREAMS, UPSTREAM_MAX_IN_FLIGHT: '100', USERS_UPSTREAM_MAX_IN_FLIGHT: '0' });
    expect(config.upstreams.map((u) => [u.name, u.maxInFlight])).toEqual([
      ['auth', 100],
      ['users', 0],
      ['analytics', 100],
      ['posts', 100],
      ['feed', 100],
      ['media', 100],
    ]);
    expect(() => loadGatewayConfig({ ...UPSTREAMS, UPSTREAM_MAX_IN_FLIGHT: '-1' })).toThrow(/UPSTREAM_MAX_IN_FLIGHT/);
  });
});

describe('public routes', () => {
  it('when a credential route is called, then it is public under the auth policy; other auth routes need a token', () => {
    for (const path of ['register', 'login', 'password/forgot', 'password/reset', 'email/verify']) {
      expect(routeAccess('POST', `/api/v1/auth/${path}`)).toEqual({ public: true, policy: 'auth' });
    }
    // A refresh token cannot be guessed: refreshes (a browser's every page load) count per IP.
    expect(routeAccess('POST', '/api/v1/auth/refresh')).toEqual({ public: true, policy: 'ip' });
    expect(routeAccess('GET', '/api/v1/auth/.well-known/jwks.json')).toEqual({ public: true, policy: 'ip' });
    expect(routeAccess('GET', '/api/v1/users/openapi.json')).toEqual({ public: true, policy: 'ip' });
    for (const [method, path] of [
      ['GET', '/api/v1/auth/me'],
      ['POST', '/api/v1/auth/logout'],
      ['POST', '/api/v1/auth/password'],
      ['POST', '/api/v1/auth/email/verify-request'],
      ['POST', '/api/v1/auth/login/'],
      ['POST', '/api/v1/auth/login/../me'],
      ['GET', '/api/v1/users/me'],
      ['GET', '/api/v1/analytics/events'],
    ]) {
      expect(routeAccess(method!, path!)).toEqual({ public: false, policy: 'user' });
    }
    // Another method on a credential route passes no token check: it is the 405 its service would answer.
    expect(routeAccess('GET', '/api/v1/auth/login')).toEqual({ public: true, policy: 'ip', allow: ['POST'] });
  });

  it('when the tracking API is called, then it is public per IP, takes an optional token and has its own 1 MB body limit', () => {
    expect(routeAccess('POST', '/api/v1/analytics/events')).toEqual({ public: true, policy: 'ip', optionalToken: true, bodyLimit: '1mb' });
  });
});

describe('circuit breaker', () => {
  const options = { failureRatio: 0.5, minRequests: 4, windowMs: 10_000, cooldownMs: 1_000 };

  it('when failures reach the ratio over the minimum, then it opens; after the cool-down one probe passes', () => {
    let now = 0;
    const changes: string[] = [];
    const breaker = new CircuitBreaker('users', options, { onStateChange: (state) => changes.push(state) }, () => now);
    for (let i = 0; i < 3; i += 1) breaker.acquire()!.failure();
    expect(breaker.state).toBe('closed');
    breaker.acquire()!.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.acquire()).toBeUndefined();
    expect(breaker.retryAfterSeconds()).toBe(1);
    now = 1_000;
    expect(breaker.state).toBe('half_open');
    const probe = breaker.acquire()!;
    expect(breaker.acquire()).toBeUndefined();
    probe.success();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('when old failures leave the rolling window, then they no longer count', () => {
    let now = 0;
    const breaker = new CircuitBreaker('users', options, {}, () => now);
    for (let i = 0; i < 3; i += 1) breaker.acquire()!.failure();
    now = 11_000;
    breaker.acquire()!.failure();
    expect(breaker.state).toBe('closed');
  });

  it('when a probe is released without an outcome, then the next call may probe', () => {
    let now = 0;
    const breaker = new CircuitBreaker('users', options, {}, () => now);
    for (let i = 0; i < 4; i += 1) breaker.acquire()!.failure();
    now = 1_000;
    breaker.acquire()!.release();
    expect(breaker.acquire()).toBeDefined();
  });
});

describe('OpenAPI merge', () => {
  it('when a service is missing, then the others are merged and the missing one is named', () => {
    const doc = mergeOpenApi(
      [
        { name: 'auth', document: { paths: { '/api/v1/auth/login': { post: { summary: 'Log in', responses: {} } } } } },
        { name: 'users', document: undefined },
      ],
      { title: 'Galion API', version: '1' },
    );
    expect(Object.keys(doc.paths!)).toEqual(['/api/v1/auth/login']);
    expect((doc.paths!['/api/v1/auth/login']!.post as { tags: string[] }).tags).toEqual(['auth']);
    expect(doc['x-galion-services']).toEqual({ auth: 'included', users: 'unavailable' });
  });

  it('when an operation is proxied, then it lists what the gateway may answer; the gateway’s own operations do not', () => {
    const doc = mergeOpenApi(
      [
        { name: 'gateway', local: true, document: { paths: { '/docs': { get: { responses: { 200: { description: 'page' } } } } } } },
        {
          name: 'users',
          document: {
            paths: { '/api/v1/users/me': { get: { responses: { 200: { description: 'me' }, 503: { description: 'overloaded' } } } } },
          },
        },
      ],
      { title: 'Galion API', version: '1' },
    );
    const responses = (path: string) => (doc.paths![path]!.get as { responses: Record<string, { description: string }> }).responses;

    expect(Object.keys(responses('/api/v1/users/me')).sort()).toEqual(['200', '429', '502', '503', '504']);
    expect(responses('/api/v1/users/me')['503']!.description).toMatch(/^overloaded Or, from the gateway: .*upstream_unavailable/);
    expect(Object.keys(responses('/docs'))).toEqual(['200']);
  });
});

describe('trace context', () => {
  it('when traceparents are generated, then each is valid W3C and none repeats', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i += 1) {
      const value = newTraceparent();
      expect(isValidTraceparent(value)).toBe(true);
      seen.add(value.split('-')[1]!);
    }
    expect(seen.size).toBe(2_000);
    expect(isValidTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBe(false);
  });
});

describe('handler chain', () => {
  /** Runs `handlers` through chain() and resolves with every call of the final callback. */
  const runChain = async (handlers: RequestHandler[]) => {
    const outcomes: unknown[] = [];
    chain(handlers)({} as Request, {} as Response, (error?: unknown) => outcomes.push(error ?? 'passed'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    return outcomes;
  };

  it('when every handler passes the request on, then they run in order and the chain passes it on once', async () => {
    const order: number[] = [];
    const step =
      (n: number): RequestHandler =>
      (_req, _res, next) => {
        order.push(n);
        next();
      };
    expect(await runChain([step(1), step(2), step(3)])).toEqual(['passed']);
    expect(order).toEqual([1, 2, 3]);
  });

  it('when a handler calls next twice, then the next handler runs once', async () => {
    let runs = 0;
    const twice: RequestHandler = (_req, _res, next) => {
      next();
      next();
    };
    const counted: RequestHandler = (_req, _res, next) => {
      runs += 1;
      next();
    };
    expect(await runChain([twice, counted])).toEqual(['passed']);
    expect(runs).toBe(1);
  });

  it('when a handler fails (next(error), throws, rejects, or rejects without a reason), then the chain fails once and stops', async () => {
    const failures: [string, RequestHandler][] = [
      ['next(error)', (_req, _res, next) => next(new Error('passed on'))],
      [
        'throw',
        () => {
          throw new Error('thrown');
        },
      ],
      [
        'reject',
        async () => {
          throw new Error('rejected');
        },
      ],
      ['reject without a reason', () => Promise.reject(undefined)],
    ];
    for (const [name, failing] of failures) {
      let laterRan = false;
      const later: RequestHandler = (_req, _res, next) => {
        laterRan = true;
        next();
      };
      const outcomes = await runChain([failing, later]);
      expect({ name, outcomes: outcomes.length, isError: outcomes[0] instanceof Error, laterRan }).toEqual({
        name,
        outcomes: 1,
        isError: true,
        laterRan: false,
      });
    }
  });

  it('when a handler answers without calling next, then the chain ends there', async () => {
    let laterRan = false;
    const answers: RequestHandler = () => undefined;
    const later: RequestHandler = () => {
      laterRan = true;
    };
    expect(await runChain([answers, later])).toEqual([]);
    expect(laterRan).toBe(false);
  });
});
