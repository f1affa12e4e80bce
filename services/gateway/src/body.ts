import { toAppError } from '@galion/kit';
import type { Request, RequestHandler, Response } from 'express';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** Bytes in a BODY_LIMIT such as `100kb` (the units of Express's body parser: 1kb = 1024 bytes). */
export const parseByteLimit = (limit: string): number => {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit.trim());
  if (!match) throw new Error(`not a byte size: ${limit}`);
  return Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
};

const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

const readBody = (req: Request, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        // Drain the rest so the connection stays usable for the answer.
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });

/** 413 for a body over `bodyLimit` (as `100kb`), in Express's body parser's words. */
export const payloadTooLarge = (bodyLimit: string) => toAppError({ type: 'entity.too.large' }, bodyLimit);

/** A chunked body streamed upstream, counted on its way: past `bytes`, the proxy answers 413 and cuts the upstream request. */
export interface StreamedBodyLimit {
  bytes: number;
  label: string;
}

export const streamedBodyLimitOf = (res: Response): StreamedBodyLimit | undefined =>
  res.locals.streamedBodyLimit as StreamedBodyLimit | undefined;

/**
 * The body limit, enforced before any upstream is contacted: a Content-Length over the limit is
 * answered 413 at once. Bodies stream through unparsed, except those of idempotent methods, which
 * a retry may need to send again: those are read ahead, bounded by the limit. A chunked body of
 * another method, whose size is known only at its end, streams too and is counted by the proxy
 * on its way (an upload of megabytes is never held whole in memory).
 */
export const bodyLimitGuard = (bodyLimit: string): RequestHandler => {
  const limit = parseByteLimit(bodyLimit);
  const tooLarge = () => payloadTooLarge(bodyLimit);
  return async (req, res, next) => {
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (declared !== undefined && !chunked) {
      const length = Number(declared);
      if (length > limit) {
        res.set('Connection', 'close');
        throw tooLarge();
      }
      if (length === 0 || !RETRYABLE.has(req.method)) {
        next();
        return;
      }
    } else if (!chunked) {
      next();
      return;
    } else if (!RETRYABLE.has(req.method)) {
      res.locals.streamedBodyLimit = { bytes: limit, label: bodyLimit } satisfies StreamedBodyLimit;
      next();
      return;
    }
    const body = await readBody(req, limit);
    if (!body) {
      res.set('Connection', 'close');
      throw tooLarge();
    }
    delete req.headers['transfer-encoding'];
    req.headers['content-length'] = String(body.length);
    res.locals.bufferedBody = body;
    next();
  };
};
