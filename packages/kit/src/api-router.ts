import { isDeepStrictEqual } from 'node:util';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import { AppError, isAppError } from './errors.js';
import { parseOrThrow } from './validation.js';
import { z } from './zod.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface Reply {
  status?: number;
  body?: unknown;
  /** A list value sends the header once per item (Set-Cookie). */
  headers?: Record<string, string | string[]>;
}

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  req: Request;
  res: Response;
}

/** A response header an operation sets, as the document shows it. */
export interface ResponseHeaderSpec {
  description: string;
  schema?: { type: 'string' | 'integer' };
}

/**
 * An OpenAPI link: where a value of this answer can be used next, e.g. the id of a created post in
 * `GET /api/v1/posts/{id}`. `operation` is `<method> <path>` of a route of the same service;
 * each parameter is a runtime expression such as `$response.body#/id`.
 */
export interface ResponseLink {
  operation: `${HttpMethod} ${string}`;
  parameters: Record<string, string>;
  description?: string;
}

/** A response of a route: a success with its schema, or an error status with what it means. */
export type ResponseSpec =
  | {
      description: string;
      schema?: z.ZodType;
      contentType?: string;
      headers?: Record<string, ResponseHeaderSpec>;
      links?: Record<string, ResponseLink>;
    }
  | string;

/** `get /api/v1/posts/{id}` → `#/paths/~1api~1v1~1posts~1%7Bid%7D/get`, a JSON pointer into the document. */
const operationRef = (operation: string): string => {
  const [method, path] = operation.split(' ') as [string, string];
  return `#/paths/${encodeURIComponent(path.replaceAll('~', '~0').replaceAll('/', '~1'))}/${method}`;
};

/**
 * Who may call a route, said once: it gives the route its guard, the document its security entry,
 * and the gateway its table of public routes (read from the document: `x-galion-rate-limit` names
 * the gateway's per-address policy of a public route, `auth` for credentials and mailed tokens).
 */
export type RouteAccess = PublicAccess | 'bearer' | { role: string };

/**
 * A route anyone may call. With `token: 'optional'` a caller may still send a bearer token: it is
 * then verified (a bad one is a 401, never ignored) and the request is the token's user's.
 */
export interface PublicAccess {
  public: 'ip' | 'auth';
  token?: 'optional';
}

/** The middleware that enforces access: a verified bearer token, then a role (see @galion/tokens). */
export interface AccessGuards {
  bearer: RequestHandler;
  role(role: string): RequestHandler;
}

/**
 * What the gateway must know of a route before it proxies it: whether it passes without a token
 * (and under which per-address policy), and its own body limit.
 */
export interface GatewayRouteDeclaration {
  method: string;
  /** OpenAPI-style path, e.g. `/api/v1/auth/login`. */
  path: string;
  /** A public route: the gateway's per-address rate-limit policy for it. Absent: a token is needed. */
  policy?: 'ip' | 'auth';
  /** A bearer token, when sent, is verified and the request counts as its user's. */
  token?: 'optional';
  /** The route's own body limit, when it differs from BODY_LIMIT. */
  bodyLimit?: string;
}

/** How a route reads its body when the service-wide JSON parser does not suit it. */
export interface BodyOptions {
  /** Largest body, as body-parser spells it ('1mb'); the service's BODY_LIMIT otherwise. */
  limit: string;
  /**
   * Content types whose body is parsed as JSON. `text/plain` lets browsers send JSON without a
   * CORS preflight (navigator.sendBeacon, a fetch with a string body).
   */
  types: ('application/json' | 'text/plain')[];
}

/**
 * A body the kit does not parse (an image, a file), for a route whose handler reads `req` as a
 * stream. Before the handler runs, the kit refuses another content type (415) and a Content-Length
 * past the limit (413, before a byte is read; the connection closes); a body of unknown length
 * (chunked) is the handler's to stop reading past the limit. The document shows each type, a
 * `format: binary` string unless `schemas` describes it; the gateway's table carries the limit.
 */
export interface RawBody {
  /** Largest body in bytes, as the gateway reads it: `<n>b`, `<n>kb` or `<n>mb` (1kb = 1024 bytes). */
  limit: string;
  /** The content types taken, as `req.is` matches them (`image/*`, `multipart/form-data`); the document lists each. */
  types: string[];
  /** What the body is, for the document. */
  description: string;
  /** The document's schema of a type whose body is not one binary string: the parts of a multipart body. */
  schemas?: Record<string, z.ZodType>;
}

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  method: HttpMethod;
  /** OpenAPI-style path, e.g. `/api/v1/users/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  access: RouteAccess;
  /** Middleware that runs after the access guard and before validation. */
  before?: RequestHandler[];
  body?: B;
  /** Parse the body with these options instead of the service-wide JSON parser. */
  bodyOptions?: BodyOptions;
  /** Leave the body unparsed for the handler to stream (not with `body` or `bodyOptions`). */
  rawBody?: RawBody;
  query?: Q;
  params?: P;
  /** Request headers the route reads (documented as optional header parameters). */
  headers?: Record<string, string>;
  /** Cookies the route reads (documented as optional cookie parameters). */
  cookies?: Record<string, string>;
  /**
   * What the route answers. Statuses every route of a kind answers are added (see
   * `commonResponses`); list the others, with the error codes they carry.
   */
  responses: Record<number, ResponseSpec>;
  /** Returns what to send, or sends it itself through `res` and returns nothing. */
  handler: (input: RouteInput<Infer<B>, Infer<Q>, Infer<P>>) => Promise<Reply | void> | Reply | void;
}

export const ErrorResponseSchema = z
  .object({
    error: z.string().openapi({ example: 'validation_failed', description: 'A stable, machine-readable code.' }),
    message: z.string().openapi({ description: 'What went wrong, for people.' }),
    request_id: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .openapi('Error');

/** A body of bytes, as the document shows a raw body's type. */
const BINARY = z.string().openapi({ format: 'binary' });

const RETRY_AFTER: Record<string, ResponseHeaderSpec> = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
};

/**
 * What the kit itself can answer for a route, whatever the route does: input that fails its
 * schema, bodies that are too big or not JSON, a missing token, and a process at capacity.
 */
const needsToken = (access: RouteAccess): boolean => access === 'bearer' || 'role' in access;
const optionalToken = (access: RouteAccess): boolean => typeof access === 'object' && 'public' in access && access.token === 'optional';

const commonResponses = (spec: {
  body?: unknown;
  query?: unknown;
  params?: unknown;
  access: RouteAccess;
  bodyOptions?: BodyOptions;
  rawBody?: RawBody;
}) => {
  const responses: Record<number, { description: string; headers?: Record<string, ResponseHeaderSpec>; bare?: true }> = {
    // Written by Node's HTTP server itself, before any route runs.
    408: {
      description:
        'The request’s headers or body did not arrive in time (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS); no body, and the connection is closed.',
      bare: true,
    },
  };
  if (spec.body || spec.query || spec.params) {
    responses[400] = { description: 'The request is not valid (validation_failed, with details naming each bad field; malformed_json).' };
  }
  if (spec.body) {
    responses[413] = { description: 'The request body is larger than the limit (payload_too_large).' };
    responses[415] = {
      description: `The request body is not ${spec.bodyOptions ? spec.bodyOptions.types.join(' or ') : 'JSON'} (unsupported_media_type).`,
    };
  }
  if (spec.rawBody) {
    responses[413] = { description: `The request body is larger than the limit of ${spec.rawBody.limit} (payload_too_large).` };
    responses[415] = { description: `The request body is not ${spec.rawBody.types.join(' or ')} (unsupported_media_type).` };
  }
  if (optionalToken(spec.access)) {
    responses[401] = { description: 'A bearer token was sent and is invalid, expired or revoked (token_invalid, token_revoked).' };
  }
  if (needsToken(spec.access)) {
    responses[401] = {
      description: 'No access token, or one that is invalid, expired or revoked (token_missing, token_invalid, token_revoked).',
    };
  }
  if (typeof spec.access === 'object' && 'role' in spec.access) {
    responses[403] = { description: `The caller does not have the ${spec.access.role} role (forbidden).` };
  }
  responses[503] = {
    description: 'The service is at capacity (overloaded) or a store it needs is unreachable (dependency_unavailable); see Retry-After.',
    headers: RETRY_AFTER,
  };
  return responses;
};

/** The body checks and parser of a route with its own `bodyOptions`: 415 for another type, then JSON parsing up to its limit. */
const routeBodyParsers = (options: BodyOptions): RequestHandler[] => {
  const parse = express.json({ limit: options.limit, type: () => true, strict: true });
  return [
    (req, _res, next) => {
      const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
      if (hasBody && !req.is(options.types)) {
        next(new AppError(415, 'unsupported_media_type', `Send the request body as JSON (Content-Type: ${options.types.join(' or ')}).`));
        return;
      }
      next();
    },
    (req, res, next) =>
      parse(req, res, (error?: unknown) => {
        const type = (error as { type?: unknown } | undefined)?.type;
        if (type === 'entity.too.large') {
          next(new AppError(413, 'payload_too_large', `The request body is larger than the limit of ${options.limit}.`));
          return;
        }
        next(error);
      }),
  ];
};

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1_024, mb: 1_048_576 };

/** Bytes in a limit such as `10mb`; undefined for one the gateway could not read either. */
const bytesOf = (limit: string): number | undefined => {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit);
  return match ? Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]! : undefined;
};

/**
 * The checks of a route with a `rawBody`, before its handler streams the body: 415 for another
 * type, 413 for a declared length past the limit. Nothing of the body is read.
 */
const rawBodyChecks = (options: RawBody, limit: number): RequestHandler => {
  const tooLarge = () =>
    new AppError(413, 'payload_too_large', `The request body is larger than the limit of ${options.limit}.`, {
      // The body stays unread: the connection cannot carry another request.
      headers: { Connection: 'close' },
    });
  return (req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is(options.types)) {
      next(new AppError(415, 'unsupported_media_type', `Send the request body as ${options.types.join(' or ')} (Content-Type).`));
      return;
    }
    next(Number(req.get('content-length') ?? 0) > limit ? tooLarge() : undefined);
  };
};

/** Whether template `a` is more concrete than `b`: at the first segment where they differ in kind, `a` has the literal. */
const moreConcrete = (a: string, b: string): boolean => {
  const isParameter = (segment: string | undefined) => segment?.startsWith('{') ?? false;
  const [left, right] = [a.split('/'), b.split('/')];
  for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
    const [leftParameter, rightParameter] = [isParameter(left[index]), isParameter(right[index])];
    if (leftParameter !== rightParameter) return rightParameter;
  }
  return false;
};

const toExpressPath = (openApiPath: string): string => openApiPath.replace(/\{(\w+)\}/g, ':$1');

/** A route answered in a way its declaration does not describe: a bug, so a 500 while checks are on. */
export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

interface DeclaredResponse {
  schema?: z.ZodType;
}

/**
 * Routes and their OpenAPI description from one declaration: the zod schema that validates a
 * payload is the one the document shows, so the two cannot drift apart. With response checks on
 * (tests, the contract run), every answer is held to the declaration too: a status it does not
 * list or a body its schema does not describe becomes a 500 naming the route.
 */
export class ApiRouter {
  readonly router: Router = express.Router();
  readonly registry = new OpenAPIRegistry();
  private readonly routes: { method: string; template: string; matches: MatchFunction<object>; ownBody: boolean }[] = [];
  private readonly gatewayDeclarations: GatewayRouteDeclaration[] = [];
  private readonly links: { from: string; operation: string }[] = [];
  private checkResponses = false;

  /** `guards` enforce the routes' access; a router with only public routes needs none. */
  constructor(private readonly guards?: AccessGuards) {
    this.registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    this.registry.register('Error', ErrorResponseSchema);
  }

  /** Holds every answer to its route's declaration from now on (see the class comment). */
  enableResponseChecks(): this {
    this.checkResponses = true;
    return this;
  }

  route<
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    P extends z.ZodType | undefined = undefined,
  >(spec: RouteSpec<B, Q, P>): this {
    const expressPath = toExpressPath(spec.path);
    const rawLimit = spec.rawBody ? bytesOf(spec.rawBody.limit) : undefined;
    if (spec.rawBody && (spec.body || spec.bodyOptions))
      throw new Error(`${spec.method.toUpperCase()} ${spec.path} declares rawBody with body or bodyOptions: a streamed body is not parsed`);
    if (spec.rawBody && rawLimit === undefined)
      throw new Error(`${spec.method.toUpperCase()} ${spec.path}: rawBody.limit "${spec.rawBody.limit}" is not <n>b, <n>kb or <n>mb`);
    this.routes.push({
      method: spec.method.toUpperCase(),
      template: spec.path,
      matches: match(expressPath),
      ownBody: spec.bodyOptions !== undefined || spec.rawBody !== undefined,
    });
    this.gatewayDeclarations.push({
      method: spec.method.toUpperCase(),
      path: spec.path,
      ...(needsToken(spec.access) ? {} : { policy: (spec.access as PublicAccess).public }),
      ...(optionalToken(spec.access) ? { token: 'optional' as const } : {}),
      ...(spec.bodyOptions ? { bodyLimit: spec.bodyOptions.limit } : {}),
      ...(spec.rawBody ? { bodyLimit: spec.rawBody.limit } : {}),
    });
    const declared = this.registerOpenApi(spec);
    const label = `${spec.method.toUpperCase()} ${spec.path}`;
    const checkError = (error: unknown): unknown => {
      if (!this.checkResponses || !isAppError(error) || declared.has(error.status)) return error;
      return new ContractViolation(`${label} answered ${error.status} (${error.code}), which its declaration does not list`);
    };
    const checkReply = (reply: Reply): void => {
      if (!this.checkResponses) return;
      const status = reply.status ?? 200;
      const response = declared.get(status);
      if (!response) throw new ContractViolation(`${label} answered ${status}, which its declaration does not list`);
      if (!response.schema) {
        if (reply.body !== undefined)
          throw new ContractViolation(`${label} answered ${status} with a body its declaration does not describe`);
        return;
      }
      const sent: unknown = JSON.parse(JSON.stringify(reply.body));
      const result = response.schema.safeParse(sent);
      if (!result.success) {
        throw new ContractViolation(`${label} answered ${status} with a body its schema refuses: ${JSON.stringify(result.error.issues)}`);
      }
      // zod drops fields an object schema does not name: any difference is a field the document does not describe.
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(result.data)), sent)) {
        throw new ContractViolation(`${label} answered ${status} with fields its schema does not describe`);
      }
    };
    /** Errors a `before` middleware passes on are held to the declaration as the handler's are. */
    const guarded =
      (handler: RequestHandler): RequestHandler =>
      (req, res, next) => {
        const forward = (error?: unknown) =>
          next(error === undefined || error === 'route' || error === 'router' ? error : checkError(error));
        try {
          const result: unknown = handler(req, res, forward);
          if (result instanceof Promise) return result.catch(forward);
        } catch (error) {
          forward(error);
        }
      };
    const handle: RequestHandler = async (req, res) => {
      res.locals.routeTemplate = spec.path;
      let reply: Reply | void;
      try {
        const input = {
          body: (spec.body ? parseOrThrow(spec.body, req.body ?? {}, 'body') : undefined) as Infer<B>,
          query: (spec.query ? parseOrThrow(spec.query, { ...req.query }, 'query') : undefined) as Infer<Q>,
          params: (spec.params ? parseOrThrow(spec.params, req.params, 'params') : undefined) as Infer<P>,
          req,
          res,
        };
        reply = await spec.handler(input);
      } catch (error) {
        throw checkError(error);
      }
      if (!reply || res.headersSent) return;
      checkReply(reply);
      if (reply.headers) res.set(reply.headers);
      res.status(reply.status ?? 200);
      if (reply.body === undefined) res.end();
      else res.json(reply.body);
    };
    // A concrete path shadows a template that also matches it (/posts/mine over /posts/{id}), as
    // OpenAPI says: PATCH /posts/mine is a 405, not an update of a post whose id is "mine".
    const templated = spec.path.includes('{');
    const markRoute: RequestHandler = (req, res, next) => {
      if (templated && this.templateFor(req.path) !== spec.path) return next('route');
      res.locals.routeTemplate = spec.path;
      next();
    };
    const bodyParsers = spec.bodyOptions
      ? routeBodyParsers(spec.bodyOptions)
      : spec.rawBody
        ? [rawBodyChecks(spec.rawBody, rawLimit!)]
        : [];
    this.router[spec.method](
      expressPath,
      markRoute,
      ...[...this.accessGuards(spec), ...bodyParsers, ...(spec.before ?? [])].map(guarded),
      handle,
    );
    return this;
  }

  /**
   * Who reads this request's body: the route that serves it (`own`: it declares `bodyOptions` or
   * `rawBody`), the service-wide JSON parser (`json`), or no one (`unrouted`: no route serves this
   * method here, and the answer is 404 or 405 whatever the body).
   */
  bodyReader(method: string, path: string): 'own' | 'json' | 'unrouted' {
    const template = this.templateFor(path);
    const served = method === 'HEAD' ? 'GET' : method;
    const route = this.routes.find((candidate) => candidate.method === served && candidate.template === template);
    if (!route) return 'unrouted';
    return route.ownBody ? 'own' : 'json';
  }

  /** The path template that serves this path: of those that match it, the most concrete. */
  private templateFor(path: string): string | undefined {
    let best: string | undefined;
    for (const route of this.routes) {
      if (route.template === best || !route.matches(path)) continue;
      if (best === undefined || moreConcrete(route.template, best)) best = route.template;
    }
    return best;
  }

  private accessGuards(spec: { access: RouteAccess; method: string; path: string }): RequestHandler[] {
    if (optionalToken(spec.access)) {
      if (!this.guards) throw new Error(`${spec.method.toUpperCase()} ${spec.path} reads an optional token, but its ApiRouter was given no guards`);
      const { bearer } = this.guards;
      return [(req, res, next) => (req.headers.authorization === undefined ? next() : bearer(req, res, next))];
    }
    if (!needsToken(spec.access)) return [];
    if (!this.guards) throw new Error(`${spec.method.toUpperCase()} ${spec.path} needs a token, but its ApiRouter was given no guards`);
    return typeof spec.access === 'object' && 'role' in spec.access
      ? [this.guards.bearer, this.guards.role(spec.access.role)]
      : [this.guards.bearer];
  }

  /**
   * Every route as the gateway must know it, concrete paths before the templates that also match
   * them, so that the first match is the one that serves.
   */
  gatewayRoutes(): GatewayRouteDeclaration[] {
    return [...this.gatewayDeclarations].sort((a, b) => (moreConcrete(a.path, b.path) ? -1 : moreConcrete(b.path, a.path) ? 1 : 0));
  }

  /** The methods some route serves at this path; empty when no route knows the path. */
  allowedMethods(path: string): string[] {
    const template = this.templateFor(path);
    const methods = this.routes.filter((route) => route.template === template).map((route) => route.method);
    if (methods.includes('GET')) methods.push('HEAD');
    return [...new Set(methods)];
  }

  openApiDocument(info: { title: string; version: string; description?: string }): object {
    for (const { from, operation } of this.links) {
      const [method, path] = operation.split(' ');
      if (!this.routes.some((route) => route.method === method?.toUpperCase() && route.template === path)) {
        throw new Error(`${from} links to ${operation}, which this router does not declare`);
      }
    }
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info,
    });
  }

  /** Registers the operation and returns every status it may answer, with the schema of each body. */
  private registerOpenApi<B, Q, P>(
    spec: RouteSpec<B & (z.ZodType | undefined), Q & (z.ZodType | undefined), P & (z.ZodType | undefined)>,
  ): Map<number, DeclaredResponse> {
    const declared = new Map<number, DeclaredResponse>();
    const errorContent = { 'application/json': { schema: ErrorResponseSchema } };
    const responses: Record<string, object> = {};
    for (const [status, { bare, ...response }] of Object.entries(commonResponses(spec))) {
      declared.set(Number(status), bare ? {} : { schema: ErrorResponseSchema });
      responses[status] = bare ? response : { ...response, content: errorContent };
    }
    for (const [status, response] of Object.entries(spec.responses)) {
      if (typeof response === 'string') {
        declared.set(Number(status), { schema: ErrorResponseSchema });
        responses[status] = { description: response, content: errorContent };
        continue;
      }
      const json = (response.contentType ?? 'application/json') === 'application/json';
      // Checked when the document is made: a link's target may be declared after it.
      for (const { operation } of Object.values(response.links ?? {})) this.links.push({ from: `${spec.method.toUpperCase()} ${spec.path}`, operation });
      declared.set(Number(status), { schema: json ? response.schema : undefined });
      responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: response.headers } : {}),
        ...(response.links
          ? {
              links: Object.fromEntries(
                Object.entries(response.links).map(([name, { operation, parameters, description }]) => [
                  name,
                  { operationRef: operationRef(operation), parameters, ...(description ? { description } : {}) },
                ]),
              ),
            }
          : {}),
        ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } } : {}),
      };
    }
    // A body whose every field is optional may be left out altogether.
    const bodyRequired = spec.body ? !(spec.body as z.ZodType).safeParse({}).success : false;
    const raw = spec.rawBody;
    const extraParameters = [
      ...Object.entries(spec.headers ?? {}).map(([name, description]) => ({ name, in: 'header', description, schema: { type: 'string' } })),
      ...Object.entries(spec.cookies ?? {}).map(([name, description]) => ({ name, in: 'cookie', description, schema: { type: 'string' } })),
    ];
    this.registry.registerPath({
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
      ...(needsToken(spec.access)
        ? { security: [{ bearerAuth: [] }] }
        : {
            'x-galion-rate-limit': (spec.access as PublicAccess).public,
            // No credentials, or a bearer token.
            ...(optionalToken(spec.access) ? { security: [{}, { bearerAuth: [] }] } : {}),
          }),
      ...(typeof spec.access === 'object' && 'role' in spec.access ? { 'x-galion-role': spec.access.role } : {}),
      ...(extraParameters.length > 0 ? { parameters: extraParameters as never } : {}),
      request: {
        ...(spec.body
          ? {
              body: {
                content: Object.fromEntries(
                  (spec.bodyOptions?.types ?? ['application/json']).map((type) => [type, { schema: spec.body as z.ZodType }]),
                ),
                required: bodyRequired,
              },
            }
          : {}),
        ...(raw
          ? {
              body: {
                description: raw.description,
                content: Object.fromEntries(raw.types.map((type) => [type, { schema: raw.schemas?.[type] ?? BINARY }])),
                required: true,
              },
            }
          : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.params ? { params: spec.params as never } : {}),
      },
      responses: responses as never,
    });
    return declared;
  }
}

const notServed: RequestHandler = () => {
  throw new Error('a router built by declarationsOf serves no requests');
};

/**
 * A router built only to read a service's declarations (its public routes, its document), never
 * to serve: its guards refuse to run. `register` is the service's own route registration.
 */
export const declarationsOf = (register: (api: ApiRouter) => void): ApiRouter => {
  const api = new ApiRouter({ bearer: notServed, role: () => notServed });
  register(api);
  return api;
};
