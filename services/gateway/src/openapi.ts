import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@galion/kit';
import type { UpstreamConfig } from './config.js';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi?: string;
  info?: Json;
  paths?: Record<string, Json>;
  components?: Record<string, Record<string, unknown>>;
  tags?: { name: string; description?: string }[];
  [key: string]: unknown;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Replaces `$ref`s to renamed components, everywhere in a document. */
const rewriteRefs = (value: unknown, renames: Map<string, string>): unknown => {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, renames));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' && renames.has(item) ? renames.get(item) : rewriteRefs(item, renames),
    ]),
  );
};

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } };

/**
 * What the gateway itself can answer for any operation it proxies, before or instead of the
 * service: the rate limits, and an upstream that is down, at capacity, broken or slow. A
 * service's own answer with the same status keeps its description, with the gateway's added.
 */
export const GATEWAY_RESPONSES: Record<string, { description: string; headers?: object }> = {
  '429': {
    description: 'Too many requests from this user or address (rate_limited); see Retry-After and RateLimit.',
    headers: {
      ...RETRY_AFTER,
      RateLimit: { description: 'The remaining quota of the policy (IETF RateLimit header fields).', schema: { type: 'string' } },
      'RateLimit-Policy': { description: 'The policy the request counts under.', schema: { type: 'string' } },
    },
  },
  '502': { description: 'The connection to the service broke before it answered (upstream_error).' },
  '503': {
    description:
      'The service is unavailable or at capacity (upstream_unavailable, upstream_overloaded), or the gateway is (overloaded); see Retry-After.',
    headers: RETRY_AFTER,
  },
  '504': { description: 'The service did not answer in time (upstream_timeout).' },
};

const withGatewayResponses = (operation: Json): Json => {
  const responses = { ...((operation.responses as Record<string, Json> | undefined) ?? {}) };
  for (const [status, response] of Object.entries(GATEWAY_RESPONSES)) {
    const own = responses[status];
    responses[status] = own
      ? {
          ...own,
          description: `${String(own.description)} Or, from the gateway: ${response.description}`,
          headers: { ...(response.headers ?? {}), ...((own.headers as Json) ?? {}) },
        }
      : { ...response, content: ERROR_CONTENT };
  }
  return { ...operation, responses };
};

/**
 * Merges the services' documents into one: paths side by side (each service owns its prefix),
 * components shared when identical (the Error schema, bearerAuth) and renamed `<Service><Name>`
 * when two services use one name for different things. Untagged operations get the service's name
 * as their tag, so the docs page groups them. Every proxied operation also lists what the gateway
 * itself may answer for it (GATEWAY_RESPONSES).
 */
export const mergeOpenApi = (
  documents: { name: string; document: OpenApiDocument | undefined; local?: boolean }[],
  info: { title: string; version: string; description?: string },
): OpenApiDocument => {
  const merged: OpenApiDocument = { openapi: '3.1.0', info: { ...info }, paths: {}, components: {}, tags: [] };
  const services: Record<string, 'included' | 'unavailable'> = {};
  for (const { name, document, local } of documents) {
    if (!document) {
      services[name] = 'unavailable';
      continue;
    }
    if (!local) services[name] = 'included';
    const renames = new Map<string, string>();
    for (const [section, entries] of Object.entries(document.components ?? {})) {
      const target = (merged.components![section] ??= {});
      for (const [entry, definition] of Object.entries(entries ?? {})) {
        if (target[entry] === undefined || isDeepStrictEqual(target[entry], definition)) continue;
        renames.set(`#/components/${section}/${entry}`, `#/components/${section}/${capitalize(name)}${entry}`);
      }
    }
    const doc = rewriteRefs(document, renames) as OpenApiDocument;
    for (const [section, entries] of Object.entries(doc.components ?? {})) {
      const target = merged.components![section]!;
      for (const [entry, definition] of Object.entries(entries ?? {})) {
        const renamed = renames.get(`#/components/${section}/${entry}`);
        target[renamed ? renamed.split('/').pop()! : entry] = definition;
      }
    }
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      const operations = Object.fromEntries(
        Object.entries(item).map(([method, operation]) => {
          if (!HTTP_METHODS.includes(method) || !operation || typeof operation !== 'object') return [method, operation];
          // The gateway's own routes are not proxied: no upstream can fail under them.
          const op = local ? (operation as Json) : withGatewayResponses(operation as Json);
          return [method, { ...op, tags: Array.isArray(op.tags) && op.tags.length > 0 ? op.tags : [name] }];
        }),
      );
      merged.paths![path] = { ...(merged.paths![path] ?? {}), ...operations };
    }
    const tagNames = new Set(merged.tags!.map((tag) => tag.name));
    for (const tag of doc.tags ?? []) if (!tagNames.has(tag.name)) merged.tags!.push(tag);
    const used = new Set(
      Object.values(doc.paths ?? {}).flatMap((item) =>
        Object.values(item).flatMap((operation) => ((operation as Json | undefined)?.tags as string[] | undefined) ?? [name]),
      ),
    );
    for (const tag of used) if (!merged.tags!.some((known) => known.name === tag)) merged.tags!.push({ name: tag });
  }
  merged['x-galion-services'] = services;
  return merged;
};

export interface OpenApiAggregatorOptions {
  upstreams: UpstreamConfig[];
  ttlMs: number;
  logger: Logger;
  fetchTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** How long a merged document missing a service is kept, so the service appears soon after it is back. */
const INCOMPLETE_TTL_MS = 5_000;

/**
 * The merged document, cached for a TTL. Each service's last good document is kept, so a
 * service that is briefly down still has its paths listed; one never fetched is left out
 * (and named in `x-galion-services`).
 */
export class OpenApiAggregator {
  private cached: { document: OpenApiDocument; expiresAt: number } | undefined;
  private building: Promise<OpenApiDocument> | undefined;
  private readonly lastGood = new Map<string, OpenApiDocument>();
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OpenApiAggregatorOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The merged document; `local` are documents of the gateway's own routes, listed first. */
  async document(local: { name: string; document: OpenApiDocument }[] = []): Promise<OpenApiDocument> {
    if (this.cached && this.cached.expiresAt > Date.now()) return this.cached.document;
    this.building ??= this.build(local).finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async build(local: { name: string; document: OpenApiDocument }[]): Promise<OpenApiDocument> {
    const fetched = await Promise.all(
      this.options.upstreams.map(async (upstream) => ({ name: upstream.name, ...(await this.fetchOne(upstream)) })),
    );
    const documents = [...local.map((entry) => ({ ...entry, local: true })), ...fetched.map(({ name, document }) => ({ name, document }))];
    const document = mergeOpenApi(documents, {
      title: 'Galion API',
      version: '1.0.0',
      description: 'Identity, profiles and user-event analytics. Every route is reached through the gateway.',
    });
    const complete = fetched.every((entry) => entry.fresh);
    this.cached = { document, expiresAt: Date.now() + (complete ? this.options.ttlMs : Math.min(this.options.ttlMs, INCOMPLETE_TTL_MS)) };
    return document;
  }

  private async fetchOne(upstream: UpstreamConfig): Promise<{ document: OpenApiDocument | undefined; fresh: boolean }> {
    const url = `${upstream.url}${upstream.prefix}/openapi.json`;
    try {
      const response = await this.fetchImpl(url, {
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 3_000),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document = (await response.json()) as OpenApiDocument;
      if (!document || typeof document !== 'object' || typeof document.paths !== 'object') throw new Error('not an OpenAPI document');
      this.lastGood.set(upstream.name, document);
      return { document, fresh: true };
    } catch (error) {
      const stale = this.lastGood.get(upstream.name);
      this.options.logger.warn(
        { err: error, upstream: upstream.name, url, serving_stale: stale !== undefined },
        'fetching an OpenAPI document failed',
      );
      return { document: stale, fresh: false };
    }
  }
}
