import { randomBytes } from 'node:crypto';
import type { Request } from 'express';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and `expect`: they describe this connection, not the request. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect'];

/**
 * Headers through which a client could claim an identity or a network origin. Upstreams never
 * trust them, and the gateway removes them anyway; it sets the X-Forwarded-* it vouches for.
 */
const IDENTITY_HEADER =
  /^(x-user(-.*)?|x-auth(-.*)?|x-forwarded-.*|x-internal-.*|x-galion-.*|x-real-ip|x-client-ip|x-remote-user|remote-user|x-original-.*|forwarded)$/;

const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

// Random bytes come from a pool refilled 4 KiB at a time: one call into the CSPRNG per 170 requests.
const POOL_SIZE = 24 * 170;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** A new W3C traceparent (sampled flag off): upstream logs of one request share its trace id. */
export const newTraceparent = (): string => {
  if (offset + 24 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const traceId = pool.toString('hex', offset, offset + 16);
  const spanId = pool.toString('hex', offset + 16, offset + 24);
  offset += 24;
  // All-zero ids are invalid; with 128 random bits this is a formality.
  return /^0+$/.test(traceId) || /^0+$/.test(spanId) ? newTraceparent() : `00-${traceId}-${spanId}-00`;
};

export const isValidTraceparent = (value: string | undefined): value is string => value !== undefined && TRACEPARENT.test(value);

/** The headers a `Connection` header names: they too are about this connection only (RFC 9110 §7.6.1). */
export const connectionOptions = (connection: string | string[] | number | undefined): string[] =>
  typeof connection === 'string'
    ? connection
        .split(',')
        .map((option) => option.trim().toLowerCase())
        .filter(Boolean)
    : [];

/** Names of the client-sent headers a request carries that the gateway will strip. */
export const strippedHeaderNames = (headers: Request['headers']): string[] => {
  const named = connectionOptions(headers.connection);
  return Object.keys(headers).filter((name) => IDENTITY_HEADER.test(name) || HOP_BY_HOP.includes(name) || named.includes(name));
};

/**
 * Rewrites the request's headers for the upstream, in place (the proxy copies them): removes
 * hop-by-hop and identity headers, then sets the client address, scheme and host as the gateway
 * resolved them (trusting TRUST_PROXY hops), the request id and a valid traceparent.
 * The Authorization header passes unchanged: the upstream verifies the token again.
 */
export const prepareUpstreamHeaders = (req: Request): void => {
  // Resolved first: Express reads them from the X-Forwarded-* headers removed below.
  const clientIp = req.ip ?? req.socket.remoteAddress ?? '';
  const proto = req.protocol;
  const host = req.host ?? req.headers.host ?? '';
  const traceparent = req.get('traceparent');
  for (const name of strippedHeaderNames(req.headers)) delete req.headers[name];
  req.headers['x-forwarded-for'] = clientIp;
  req.headers['x-forwarded-proto'] = proto;
  if (host) req.headers['x-forwarded-host'] = host;
  req.headers['x-request-id'] = req.id;
  req.headers.traceparent = isValidTraceparent(traceparent) ? traceparent : newTraceparent();
  if (!isValidTraceparent(traceparent)) delete req.headers.tracestate;
};
