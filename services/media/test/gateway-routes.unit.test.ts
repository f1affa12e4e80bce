import { mediaGatewayRoutes } from '../src/app';

describe('the routes as the gateway knows them', () => {
  it('when the gateway’s table is made, then the upload carries its own body limit (the largest image and a multipart body’s framing), the signed URLs and the avatars are public, the rest needs a token', () => {
    const routes = mediaGatewayRoutes();
    expect(routes.find((route) => route.method === 'POST' && route.path === '/api/v1/media')).toEqual({
      method: 'POST',
      path: '/api/v1/media',
      bodyLimit: `${10 * 1_048_576 + 16_384}b`,
    });
    expect(routes.find((route) => route.path === '/api/v1/media/signed')).toEqual({
      method: 'GET',
      path: '/api/v1/media/signed',
      policy: 'ip',
    });
    expect(routes.filter((route) => route.policy !== undefined).map((route) => `${route.method} ${route.path}`)).toEqual([
      'GET /api/v1/media/signed',
      'GET /api/v1/media/avatars/{id}',
    ]);
    // Concrete paths come before the templates that also match them.
    const paths = routes.map((route) => `${route.method} ${route.path}`);
    expect(paths.indexOf('GET /api/v1/media/stats')).toBeLessThan(paths.indexOf('GET /api/v1/media/{id}'));
  });
});
