import { allowedMethods, routeAccess } from '../src/access';

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
        // Not the post `{id}` of GET /api/v1/posts/{id}.
        '/api/v1/posts/openapi.json',
        '/api/v1/feed/openapi.json',
        // Not the image `{id}` of GET /api/v1/media/{id}.
        '/api/v1/media/openapi.json',
      ]) {
        expect({ method, path, access: routeAccess(method, path) }).toEqual({ method, path, access: PUBLIC_IP });
      }
    }
  });

  test('when a public document is written to (POST, PUT, DELETE), then it is a 405 naming GET and HEAD, never a pass to the service', () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect(routeAccess(method, '/api/v1/auth/.well-known/jwks.json')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD'] });
      expect(routeAccess(method, '/api/v1/users/openapi.json')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD'] });
    }
  });

  test('when a path only looks like a public one (deeper, longer, another service, another prefix), then it needs a token', () => {
    for (const [method, path] of [
      ['GET', '/api/v1/auth/.well-known/keys/extra'],
      ['GET', '/api/v1/auth/.well-known/'],
      ['GET', '/api/v1/billing/openapi.json'],
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

  test('when posts are read (a post, a list, search, comments), then they are public and a token is optional; writes need one', () => {
    for (const path of ['/api/v1/posts', '/api/v1/posts/search', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/comments']) {
      expect({ path, access: routeAccess('GET', path) }).toEqual({ path, access: { ...PUBLIC_IP, optionalToken: true } });
    }
    // A concrete path before the template that also matches it: "my posts" is not the post "mine".
    expect(routeAccess('GET', '/api/v1/posts/mine')).toEqual(NEEDS_TOKEN);
    expect(
      routeAccess('DELETE', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/comments/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c'),
    ).toEqual(NEEDS_TOKEN);
  });

  test('when a route declares its own body limit, then the gateway applies it, with or without a token', () => {
    // A post is up to 100,000 characters of up to 4 bytes each: more than the gateway's BODY_LIMIT.
    expect(routeAccess('POST', '/api/v1/posts')).toEqual({ ...NEEDS_TOKEN, bodyLimit: '1280kb' });
    expect(routeAccess('PATCH', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).toEqual({ ...NEEDS_TOKEN, bodyLimit: '1280kb' });
    expect(routeAccess('POST', '/api/v1/analytics/events')).toEqual(expect.objectContaining({ public: true, bodyLimit: '1mb' }));
    expect(routeAccess('POST', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/comments')).toEqual(NEEDS_TOKEN);
  });

  test('when a post is deleted or a comment is written, then a token is needed and the body limit is the gateway\'s', () => {
    expect(routeAccess('DELETE', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).toEqual(NEEDS_TOKEN);
    expect(
      routeAccess('DELETE', '/api/v1/posts/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/comments/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c'),
    ).toEqual(NEEDS_TOKEN);
  });

  test('when the global feed is read, then it is public under the per-IP policy; the home feed needs a token and a write is a 405', () => {
    for (const method of ['GET', 'HEAD']) expect(routeAccess(method, '/api/v1/feed/global')).toEqual(PUBLIC_IP);
    expect(routeAccess('GET', '/api/v1/feed/home')).toEqual(NEEDS_TOKEN);
    expect(routeAccess('POST', '/api/v1/feed/global')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD'] });
    expect(routeAccess('GET', '/api/v1/feed/global/extra')).toEqual(NEEDS_TOKEN);
  });

  test('when an image is uploaded, then a token is needed and the limit is the upload route’s own: MEDIA_MAX_UPLOAD_BYTES (10 MiB) and a multipart body’s framing', () => {
    expect(routeAccess('POST', '/api/v1/media')).toEqual({ ...NEEDS_TOKEN, bodyLimit: `${10 * 1_048_576 + 16_384}b` });
    // The other media routes take no body beyond the gateway's BODY_LIMIT.
    expect(routeAccess('DELETE', '/api/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).toEqual(NEEDS_TOKEN);
  });

  test('when images are read, then a token is needed, except through a signed URL, which is public under the per-IP policy', () => {
    for (const path of ['/api/v1/media', '/api/v1/media/stats', '/api/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/content']) {
      expect({ path, access: routeAccess('GET', path) }).toEqual({ path, access: NEEDS_TOKEN });
    }
    // A concrete path before the template that also matches it: the signed URLs are not the image "signed".
    expect(routeAccess('GET', '/api/v1/media/signed')).toEqual(PUBLIC_IP);
    // ...and not deleted as one either: media answers 405 there, and so does the gateway.
    expect(routeAccess('DELETE', '/api/v1/media/signed')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD'] });
  });

  test('when a credential route is called with another method than POST, then it is a 405 naming POST', () => {
    for (const method of ['GET', 'HEAD', 'PUT']) {
      expect(routeAccess(method, '/api/v1/auth/register')).toEqual({ ...PUBLIC_IP, allow: ['POST'] });
      expect(routeAccess(method, '/api/v1/auth/refresh')).toEqual({ ...PUBLIC_IP, allow: ['POST'] });
    }
  });
});

describe('methods no route serves', () => {
  test('when a path is served but not with this method, then the access names the methods it is served with, and passes per IP to a 405', () => {
    expect(routeAccess('PUT', '/api/v1/users/me')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD', 'PATCH', 'DELETE'] });
    expect(routeAccess('TRACE', '/api/v1/auth/login')).toEqual({ ...PUBLIC_IP, allow: ['POST'] });
  });

  test('when a concrete path shadows a template (/posts/mine before /posts/{id}), then its Allow is the concrete route’s alone', () => {
    expect(allowedMethods('/api/v1/posts/mine')).toEqual(['GET', 'HEAD']);
    expect(routeAccess('DELETE', '/api/v1/posts/mine')).toEqual({ ...PUBLIC_IP, allow: ['GET', 'HEAD'] });
    expect(allowedMethods('/api/v1/posts/0190a3c4-0000-7000-8000-000000000001')).toEqual(expect.arrayContaining(['GET', 'PATCH', 'DELETE']));
  });

  test('when no route serves the path at all, then it still needs a token (secure by default) and names no methods', () => {
    expect(allowedMethods('/api/v1/users/nothing/here/at/all')).toEqual([]);
    expect(routeAccess('GET', '/api/v1/users/nothing/here/at/all')).toEqual(NEEDS_TOKEN);
  });
});
