import { routeAccess } from '../src/access';

const PUBLIC_IP = { public: true, policy: 'ip' };
const NEEDS_TOKEN = { public: false, policy: 'user' };

describe('gateway route access', () => {
  test('when a request is a CORS preflight (OPTIONS), then it passes without a token on any path, counted per IP', () => {
    for (const path of ['/api/v1/users/me', '/api/v1/analytics/events', '/api/v1/auth/logout']) {
      expect(routeAccess('OPTIONS', path)).toEqual(PUBLIC_IP);
    }
  });

  test('when JWKS, discovery or a service OpenAPI document is read with GET or HEAD, then it is public under the per-IP policy', () => {
    for (const method of ['GET', 'HEAD']) {
      for (const path of [
        '/api/v1/auth/.well-known/jwks.json',
        '/api/v1/auth/.well-known/openid-configuration',
        '/api/v1/auth/openapi.json',
        '/api/v1/users/openapi.json',
        '/api/v1/analytics/openapi.json',
      ]) {
        expect({ method, path, access: routeAccess(method, path) }).toEqual({ method, path, access: PUBLIC_IP });
      }
    }
  });

  test('when a public document is written to (POST, PUT, DELETE), then it needs a token', () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect(routeAccess(method, '/api/v1/auth/.well-known/jwks.json')).toEqual(NEEDS_TOKEN);
      expect(routeAccess(method, '/api/v1/users/openapi.json')).toEqual(NEEDS_TOKEN);
    }
  });

  test('when a path only looks like a public one (deeper, longer, another service, another prefix), then it needs a token', () => {
    for (const [method, path] of [
      ['GET', '/api/v1/auth/.well-known/keys/extra'],
      ['GET', '/api/v1/auth/.well-known/'],
      ['GET', '/api/v1/posts/openapi.json'],
      ['GET', '/api/v1/users/openapi.jsonx'],
      ['GET', '/api/v2/auth/openapi.json'],
      ['POST', '/api/v1/auth/loginx'],
      ['POST', '/api/v1/auth/register/extra'],
      ['POST', '/api/v1/users/x/api/v1/auth/login'],
      ['POST', '/api/v1/auth/refresh/'],
    ] as const) {
      expect({ method, path, access: routeAccess(method, path) }).toEqual({ method, path, access: NEEDS_TOKEN });
    }
  });

  test('when a credential route is called with another method than POST, then it needs a token', () => {
    for (const method of ['GET', 'HEAD', 'PUT']) {
      expect(routeAccess(method, '/api/v1/auth/register')).toEqual(NEEDS_TOKEN);
      expect(routeAccess(method, '/api/v1/auth/refresh')).toEqual(NEEDS_TOKEN);
    }
  });
});
