import { ApiRouter, createHttpApp, createLogger, createMetrics, Health, notFound, z } from '@galion/kit';
import supertest from 'supertest';

const build = () => {
  const api = new ApiRouter()
    .route({
      method: 'post',
      path: '/things',
      access: { public: 'ip' },
      summary: 'create',
      body: z.strictObject({ name: z.string().min(1), count: z.number().int().positive() }),
      responses: { 201: { description: 'created' } },
      handler: ({ body }) => ({ status: 201, body }),
    })
    .route({
      method: 'get',
      path: '/things/{id}',
      access: { public: 'ip' },
      summary: 'read',
      params: z.object({ id: z.uuid() }),
      query: z.object({ verbose: z.enum(['true', 'false']).optional() }),
      responses: { 200: { description: 'found' }, 404: 'missing' },
      handler: ({ params }) => {
        throw notFound(`no thing ${params.id}`);
      },
    })
    .route({
      method: 'get',
      path: '/boom',
      access: { public: 'ip' },
      summary: 'fails',
      responses: { 500: 'always' },
      handler: () => {
        throw new Error('SELECT password_hash FROM accounts -- secret detail');
      },
    })
    .route({
      method: 'get',
      path: '/db-down',
      access: { public: 'ip' },
      summary: 'dependency fails',
      responses: { 503: 'always' },
      handler: () => {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    });
  const app = createHttpApp(
    {
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      health: new Health(),
      bodyLimit: '1kb',
    },
    api,
  );
  return supertest(app);
};

describe('the kit HTTP app', () => {
  const http = build();

  it('when a handler throws an unexpected error, then 500 with a message that reveals nothing', async () => {
    const response = await http.get('/boom').expect(500);
    expect(response.body).toEqual({ error: 'internal_error', message: expect.any(String), request_id: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toMatch(/SELECT|password_hash|stack/);
  });

  it('when a dependency is unreachable, then 503 dependency_unavailable with Retry-After', async () => {
    const response = await http.get('/db-down').expect(503);
    expect(response.body.error).toBe('dependency_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
  });

  it('when params or query are invalid, then 400 naming them', async () => {
    const bad = await http.get('/things/not-a-uuid').expect(400);
    expect(bad.body.details[0].path).toBe('params.id');
    const badQuery = await http.get('/things/0190a0b0-0000-7000-8000-000000000000?verbose=maybe').expect(400);
    expect(badQuery.body.details[0].path).toBe('query.verbose');
    await http.get('/things/0190a0b0-0000-7000-8000-000000000000?verbose=true').expect(404);
  });

  it('when the body is over the limit, then 413; when it is not JSON, then 415', async () => {
    expect(
      (
        await http
          .post('/things')
          .send({ name: 'x'.repeat(2048), count: 1 })
          .expect(413)
      ).body.error,
    ).toBe('payload_too_large');
    await http.post('/things').set('Content-Type', 'application/x-www-form-urlencoded').send('name=x').expect(415);
  });

  it('when the body is valid, then the handler gets the parsed value', async () => {
    await http.post('/things').send({ name: 'a', count: 2 }).expect(201, { name: 'a', count: 2 });
  });

  it('when requests are served, then the histogram labels them by route template, not raw path', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const api = new ApiRouter().route({
      method: 'get',
      path: '/items/{id}',
      access: { public: 'ip' },
      summary: 'read',
      responses: { 200: { description: 'ok' } },
      handler: () => ({ body: {} }),
    });
    const app = createHttpApp(
      { service: 't', logger: createLogger({ service: 't', level: 'silent' }), metrics, health: new Health() },
      api,
    );
    await supertest(app).get('/items/1').expect(200);
    await supertest(app).get('/items/2').expect(200);
    await supertest(app).get('/unknown/3').expect(404);
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_server_request_duration_seconds_count{method="GET",route="/items/{id}",status_code="200"} 2');
    expect(text).toContain('route="unmatched",status_code="404"');
    expect(text).not.toContain('/items/1');
  });

  it('when the process serves its maximum of requests, then the next is answered 503 at once with Retry-After, probes still pass, and the count shows it', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const api = new ApiRouter().route({
      method: 'get',
      path: '/slow',
      access: { public: 'ip' },
      summary: 'slow',
      responses: { 200: { description: 'ok' } },
      handler: async () => {
        await held;
        return { body: { done: true } };
      },
    });
    const app = createHttpApp(
      { service: 't', logger: createLogger({ service: 't', level: 'silent' }), metrics, health: new Health(), maxInFlight: 2 },
      api,
    );
    const server = app.listen(0);
    const agent = supertest(server);
    try {
      const busy = [agent.get('/slow').then((r) => r.status), agent.get('/slow').then((r) => r.status)];
      await new Promise((resolve) => setTimeout(resolve, 100));

      // The two held requests never finish on their own: an answer here did not wait for them.
      const shed = await agent.get('/slow');
      const probe = await agent.get('/livez');
      release();

      expect({ status: shed.status, error: shed.body.error, retryAfter: shed.headers['retry-after'] }).toEqual({ status: 503, error: 'overloaded', retryAfter: '1' });
      expect(probe.status).toBe(200);
      expect(await Promise.all(busy)).toEqual([200, 200]);
      expect(await metrics.registry.metrics()).toContain('http_server_shed_total 1');
      // Once the first two are done, there is room again.
      expect((await agent.get('/slow')).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
