import {
  ApiRouter,
  conflict,
  createHttpApp,
  createLogger,
  createMetrics,
  forbidden,
  Health,
  queryInteger,
  text,
  unauthorized,
  z,
  type AccessGuards,
} from '@galion/kit';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import supertest from 'supertest';

const Thing = z.object({ id: z.string(), name: z.string() }).openapi('Thing');
const refuse: RequestHandler = (_req, _res, next) => next(forbidden());

/** Stand-in guards: a token is the header `Authorization: Bearer <role>`. */
const guards: AccessGuards = {
  bearer: (req, res, next) => {
    const role = /^Bearer (\w+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!role) return next(unauthorized('token_missing', 'No token.'));
    res.locals.role = role;
    next();
  },
  role: (role) => (_req, res, next) => next(res.locals.role === role ? undefined : forbidden(`This needs the ${role} role.`)),
};

/** Routes that answer as declared, and routes that drift from their declaration in each way. */
const routes = () =>
  new ApiRouter(guards)
    .route({
      method: 'post',
      path: '/things',
      access: { public: 'ip' },
      summary: 'create',
      body: z.strictObject({ name: text({ min: 1, max: 5, nonBlank: true, trim: true }) }),
      responses: {
        201: {
          description: 'created',
          schema: Thing,
          links: { ReadThing: { operation: 'get /things/{id}', parameters: { id: '$response.body#/id' } } },
        },
      },
      handler: ({ body }) => ({ status: 201, body: { id: 't1', name: body.name } }),
    })
    .route({
      method: 'get',
      path: '/wrong-body',
      access: { public: 'ip' },
      summary: 'answers a body its schema refuses',
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => ({ body: { id: 1 } }),
    })
    .route({
      method: 'get',
      path: '/extra-field',
      access: { public: 'ip' },
      summary: 'answers a field its schema does not describe',
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => ({ body: { id: 't', name: 'n', password_hash: 'x' } }),
    })
    .route({
      method: 'get',
      path: '/undeclared-status',
      access: { public: 'ip' },
      summary: 'answers a success status it does not list',
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => ({ status: 202, body: { id: 't', name: 'n' } }),
    })
    .route({
      method: 'get',
      path: '/undeclared-error',
      access: { public: 'ip' },
      summary: 'throws an error status it does not list',
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => {
        throw conflict('clash', 'A clash.');
      },
    })
    .route({
      method: 'get',
      path: '/undeclared-before',
      access: { public: 'ip' },
      summary: 'a middleware refuses with a status the route does not list',
      before: [refuse],
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => ({ body: { id: 't', name: 'n' } }),
    })
    .route({
      method: 'get',
      path: '/pages',
      access: { public: 'ip' },
      summary: 'a bounded query integer',
      query: z.strictObject({ limit: queryInteger({ min: 1, max: 50, default: 10 }) }),
      responses: { 200: { description: 'the limit', schema: z.object({ limit: z.number() }) } },
      handler: ({ query }) => ({ body: { limit: query.limit } }),
    })
    .route({
      method: 'post',
      path: '/options',
      summary: 'every field optional',
      access: 'bearer',
      body: z.strictObject({ note: text({ max: 10 }).optional() }),
      responses: { 204: { description: 'done' } },
      handler: () => ({ status: 204 }),
    })
    .route({
      method: 'get',
      path: '/admin-only',
      summary: 'for admins',
      access: { role: 'admin' },
      responses: { 204: { description: 'done' } },
      handler: () => ({ status: 204 }),
    })
    .route({
      method: 'post',
      path: '/login',
      summary: 'credentials in',
      access: { public: 'auth' },
      responses: { 204: { description: 'done' } },
      handler: () => ({ status: 204 }),
    })
    // Declared before the concrete /things/mine on purpose: precedence does not hang on order.
    .route({
      method: 'get',
      path: '/things/{id}',
      access: { public: 'ip' },
      summary: 'read one',
      params: z.object({ id: z.string() }),
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: ({ params }) => ({ body: { id: params.id, name: 'by id' } }),
    })
    .route({
      method: 'patch',
      path: '/things/{id}',
      access: { public: 'ip' },
      summary: 'rename one',
      params: z.object({ id: z.string() }),
      body: z.strictObject({ name: z.string() }),
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: ({ params, body }) => ({ body: { id: params.id, name: body.name } }),
    })
    .route({
      method: 'get',
      path: '/things/mine',
      access: { public: 'ip' },
      summary: 'the caller’s',
      responses: { 200: { description: 'a thing', schema: Thing } },
      handler: () => ({ body: { id: 'mine', name: 'concrete' } }),
    })
    .route({
      method: 'post',
      path: '/beacon',
      access: { public: 'ip', token: 'optional' },
      summary: 'takes JSON sent as text/plain, up to 2 kB, with or without a token',
      body: z.strictObject({ items: z.array(z.string()).max(1_000) }),
      bodyOptions: { limit: '2kb', types: ['application/json', 'text/plain'] },
      responses: { 202: { description: 'counted', schema: z.object({ items: z.number(), role: z.string().nullable() }) } },
      handler: ({ body, res }) => ({ status: 202, body: { items: body.items.length, role: (res.locals.role as string | undefined) ?? null } }),
    })
    .route({
      method: 'post',
      path: '/uploads',
      access: { public: 'ip' },
      summary: 'streams an image or a multipart body of up to 1 kB, unparsed',
      rawBody: {
        limit: '1kb',
        types: ['image/*', 'multipart/form-data'],
        description: 'The file.',
        schemas: { 'multipart/form-data': z.object({ file: z.string().openapi({ format: 'binary' }) }) },
      },
      responses: { 200: { description: 'what was read', schema: z.object({ bytes: z.number(), parsed: z.boolean() }) } },
      handler: async ({ req }) => {
        let bytes = 0;
        for await (const chunk of req) bytes += (chunk as Buffer).length;
        return { body: { bytes, parsed: req.body !== undefined } };
      },
    });

const appOf = (checkResponses: boolean) =>
  createHttpApp(
    {
      service: 't',
      logger: createLogger({ service: 't', level: 'silent' }),
      metrics: createMetrics(),
      health: new Health(),
      checkResponses,
      openapi: { path: '/openapi.json', title: 't', version: '1' },
    },
    routes(),
  );
const build = (checkResponses: boolean) => supertest(appOf(checkResponses));

/** The answer to a request whose headers alone are sent: its body is never written. */
const headersOnly = async (path: string, headers: Record<string, string | number>) => {
  const server = appOf(true).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const request = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path, method: 'POST', headers });
    const answer = new Promise<{ response: IncomingMessage; body: string }>((resolve, reject) => {
      request.once('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () => resolve({ response, body: Buffer.concat(chunks).toString() }));
      });
      request.once('error', reject);
    });
    request.flushHeaders();
    const result = await answer;
    request.destroy();
    return result;
  } finally {
    server.closeAllConnections();
    server.close();
  }
};

type Operation = {
  requestBody?: { required: boolean };
  responses: Record<string, unknown>;
  parameters?: { name: string; schema: object }[];
};
const operation = async (path: string, method: string): Promise<Operation> => {
  const document = (await build(false).get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, Operation>> };
  return document.paths[path]![method]!;
};

describe('response checks (API_CHECK_RESPONSES)', () => {
  it('when a route answers as declared, then the answer goes out unchanged', async () => {
    const reply = await build(true).post('/things').send({ name: ' Ada ' }).expect(201);

    expect(reply.body).toEqual({ id: 't1', name: 'Ada' });
  });

  it.each([
    ['a body its schema refuses', '/wrong-body'],
    ['a field its schema does not describe', '/extra-field'],
    ['a status it does not list', '/undeclared-status'],
    ['an error status it does not list', '/undeclared-error'],
    ['a middleware error status it does not list', '/undeclared-before'],
  ])('when a route answers %s, then the answer is a 500 internal_error', async (_case, path) => {
    const reply = await build(true).get(path).expect(500);

    expect(reply.body.error).toBe('internal_error');
  });

  it('when the checks are off (production), then the same drifting routes answer what they return', async () => {
    const http = build(false);

    await http.get('/wrong-body').expect(200);
    await http.get('/undeclared-status').expect(202);
    await http.get('/undeclared-error').expect(409);
  });
});

describe('what the document says of every route', () => {
  it('when a route takes a body and a token, then it lists 400, 401, 408, 413, 415 and 503 besides its own answers', async () => {
    const options = await operation('/options', 'post');

    expect(Object.keys(options.responses).sort()).toEqual(['204', '400', '401', '408', '413', '415', '503']);
  });

  it('when an answer links to another operation, then the document points at it; a link to an undeclared one fails the document', async () => {
    const create = (await operation('/things', 'post')) as unknown as { responses: Record<string, { links: object }> };
    const dangling = new ApiRouter(guards).route({
      method: 'post',
      path: '/orphans',
      access: { public: 'ip' },
      summary: 'links to nothing',
      responses: { 201: { description: 'made', links: { Gone: { operation: 'get /orphans/{id}', parameters: { id: '$response.body#/id' } } } } },
      handler: () => ({ status: 201 }),
    });

    expect(create.responses['201']!.links).toEqual({
      ReadThing: { operationRef: '#/paths/~1things~1%7Bid%7D/get', parameters: { id: '$response.body#/id' } },
    });
    expect(() => dangling.openApiDocument({ title: 't', version: '1' })).toThrow('POST /orphans links to get /orphans/{id}, which this router does not declare');
  });

  it('when every field of a body is optional, then the body is not required; otherwise it is', async () => {
    expect((await operation('/options', 'post')).requestBody?.required).toBe(false);
    expect((await operation('/things', 'post')).requestBody?.required).toBe(true);
  });

  it('when a query takes a bounded whole number, then the document shows an integer with its range', async () => {
    const pages = await operation('/pages', 'get');

    expect(pages.parameters?.find((parameter) => parameter.name === 'limit')?.schema).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 50,
      default: 10,
    });
  });
});

describe('access: one declaration for the guard and the document', () => {
  it('when a route is for a role, then a caller without a token gets 401, one without the role 403, and one with it passes', async () => {
    const http = build(true);

    await http.get('/admin-only').expect(401);
    await http.get('/admin-only').set('Authorization', 'Bearer user').expect(403);
    await http.get('/admin-only').set('Authorization', 'Bearer admin').expect(204);
  });

  it('when a route is for a role, then the document shows its security, its role and its 401 and 403', async () => {
    const adminOnly = await operation('/admin-only', 'get');

    expect(adminOnly.security).toEqual([{ bearerAuth: [] }]);
    expect(adminOnly['x-galion-role']).toBe('admin');
    expect(Object.keys(adminOnly.responses)).toEqual(expect.arrayContaining(['401', '403']));
  });

  it('when a route is public, then the document has no security and names its gateway rate-limit policy', async () => {
    const login = await operation('/login', 'post');

    expect(login.security).toBeUndefined();
    expect(login['x-galion-rate-limit']).toBe('auth');
    expect(login.responses['401']).toBeUndefined();
  });

  it('when a route takes an optional token, then no token passes, a valid one is read, a bad one is 401; the document shows both', async () => {
    const http = build(true);

    expect((await http.post('/beacon').send({ items: ['a'] }).expect(202)).body).toEqual({ items: 1, role: null });
    expect((await http.post('/beacon').set('Authorization', 'Bearer user').send({ items: ['a'] }).expect(202)).body.role).toBe('user');
    await http.post('/beacon').set('Authorization', 'Basic x').send({ items: [] }).expect(401);
    const beacon = await operation('/beacon', 'post');
    expect(beacon.security).toEqual([{}, { bearerAuth: [] }]);
    expect(beacon['x-galion-rate-limit']).toBe('ip');
    expect(Object.keys(beacon.responses)).toEqual(expect.arrayContaining(['401', '413', '415']));
  });

  it('when a route declares its own body options, then text/plain JSON parses, its own limit applies, other types are 415', async () => {
    const http = build(true);

    await http.post('/beacon').set('Content-Type', 'text/plain;charset=UTF-8').send(JSON.stringify({ items: ['a', 'b'] })).expect(202);
    const tooLarge = await http.post('/beacon').set('Content-Type', 'text/plain').send(JSON.stringify({ items: ['x'.repeat(3_000)] })).expect(413);
    expect(tooLarge.body.message).toMatch(/2kb/);
    expect((await http.post('/beacon').set('Content-Type', 'text/plain').send('{nope').expect(400)).body.error).toBe('malformed_json');
    await http.post('/beacon').set('Content-Type', 'application/xml').send('<a/>').expect(415);
    // Other routes keep the service-wide parser: text/plain is not JSON there.
    await http.post('/things').set('Content-Type', 'text/plain').send(JSON.stringify({ name: 'x' })).expect(415);
    const beacon = await operation('/beacon', 'post');
    expect(Object.keys((beacon.requestBody as unknown as { content: object }).content)).toEqual(['application/json', 'text/plain']);
  });

  it('when a route takes a raw body, then its handler streams it unparsed; another type is 415 before the handler runs', async () => {
    const http = build(true);

    const image = await http.post('/uploads').set('Content-Type', 'image/png').send(Buffer.alloc(700, 1)).expect(200);
    expect(image.body).toEqual({ bytes: 700, parsed: false });
    // JSON too stays unparsed here: the service-wide parser leaves the route alone.
    await http.post('/uploads').set('Content-Type', 'multipart/form-data; boundary=x').send('{"a":1}').expect(200);
    const wrong = await http.post('/uploads').set('Content-Type', 'application/json').send({ a: 1 }).expect(415);
    expect(wrong.body.error).toBe('unsupported_media_type');
    expect(wrong.body.message).toContain('image/* or multipart/form-data');
  });

  it('when a raw body’s Content-Length is past its limit, then 413 comes before a byte is sent, and the connection closes', async () => {
    const { response, body } = await headersOnly('/uploads', { 'Content-Type': 'image/png', 'Content-Length': 1_025 });

    expect(response.statusCode).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(body)).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining('1kb') });
  });

  it('when a route takes a raw body, then the document shows each type as binary or its own schema, with 413 and 415, and the gateway table has its limit', async () => {
    const uploads = (await operation('/uploads', 'post')) as unknown as {
      requestBody: { description: string; required: boolean; content: Record<string, { schema: object }> };
      responses: Record<string, unknown>;
    };

    expect(uploads.requestBody).toEqual({
      description: 'The file.',
      required: true,
      content: {
        'image/*': { schema: { type: 'string', format: 'binary' } },
        'multipart/form-data': {
          schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] },
        },
      },
    });
    expect(Object.keys(uploads.responses).sort()).toEqual(['200', '408', '413', '415', '503']);
    const declared = routes().gatewayRoutes();
    expect(declared.find((route) => route.path === '/uploads')).toEqual({
      method: 'POST',
      path: '/uploads',
      policy: 'ip',
      bodyLimit: '1kb',
    });
  });

  it('when a raw body is declared with a body schema, or with a limit the gateway cannot read, then declaring it fails at once', () => {
    const declare = (extra: object) => () =>
      new ApiRouter().route({
        method: 'post',
        path: '/x',
        summary: 'x',
        access: { public: 'ip' },
        rawBody: { limit: '1mb', types: ['image/*'], description: 'x' },
        responses: {},
        handler: () => undefined,
        ...extra,
      });

    expect(declare({ body: z.object({}) })).toThrow(/rawBody with body/);
    expect(declare({ rawBody: { limit: '1.5mb', types: ['image/*'], description: 'x' } })).toThrow(/is not <n>b, <n>kb or <n>mb/);
  });

  it('when a concrete path and a template both match, then the concrete one serves it and its methods alone are allowed', async () => {
    const http = build(true);

    expect((await http.get('/things/mine').expect(200)).body.name).toBe('concrete');
    expect((await http.get('/things/t7').expect(200)).body.name).toBe('by id');
    expect((await http.patch('/things/t7').send({ name: 'renamed' }).expect(200)).body.name).toBe('renamed');
    const wrong = await http.patch('/things/mine').send({ name: 'renamed' }).expect(405);
    expect(wrong.body.error).toBe('method_not_allowed');
    expect(wrong.headers.allow).toBe('GET, HEAD');
    const options = await http.options('/things/mine').expect(204);
    expect(options.headers.allow).toBe('GET, HEAD');
    expect((await http.options('/things/t7').expect(204)).headers.allow).toBe('GET, PATCH, HEAD');
  });

  it('when a method no route serves comes with a body that is not JSON, then 405 with Allow, not 415 for a body never read', async () => {
    const http = build(true);

    const wrong = await http.put('/things/t7').set('Content-Type', 'image/gif').send(Buffer.from('GIF87a')).expect(405);

    expect(wrong.body.error).toBe('method_not_allowed');
    expect(wrong.headers.allow).toBe('GET, PATCH, HEAD');
    // A method that is served still has its body checked.
    expect((await http.patch('/things/t7').set('Content-Type', 'image/gif').send(Buffer.from('GIF87a')).expect(415)).body.error).toBe(
      'unsupported_media_type',
    );
  });

  it('when a route needs a token and its router has no guards, then declaring it fails at once', () => {
    const declare = () =>
      new ApiRouter().route({ method: 'get', path: '/x', summary: 'x', access: 'bearer', responses: {}, handler: () => undefined });

    expect(declare).toThrow(/no guards/);
  });
});

describe('text: lengths in characters, as the document counts them', () => {
  const name = text({ min: 1, max: 5, nonBlank: true, trim: true });

  it('when a value has five emoji (ten UTF-16 units), then it is within a maximum of five', () => {
    expect(name.safeParse('😀😀😀😀😀').success).toBe(true);
    expect(name.safeParse('😀😀😀😀😀😀').success).toBe(false);
  });

  it('when a value is blank or holds NUL, then it is refused', () => {
    expect(name.safeParse('   ').success).toBe(false);
    expect(name.safeParse('a\u0000').success).toBe(false);
  });

  it('when a value has spaces around it, then the length is checked on what was sent and the value is trimmed', () => {
    expect(name.safeParse(' abc ').data).toBe('abc');
    expect(name.safeParse('  abcd  ').success).toBe(false);
  });
});

describe('queryInteger', () => {
  const limit = queryInteger({ min: 1, max: 50, default: 10 });

  it.each([['0'], ['51'], ['-1'], ['1.5'], ['1e1'], [' 5'], ['']])('when the value is %j, then it is refused', (value) => {
    expect(limit.safeParse(value).success).toBe(false);
  });

  it('when the value is absent, then the default applies; a whole number in range parses', () => {
    expect(limit.parse(undefined)).toBe(10);
    expect(limit.parse('50')).toBe(50);
  });
});
