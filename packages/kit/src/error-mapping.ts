import type { Request, Response } from 'express';
import { AppError, badRequest, dependencyUnavailable, isAppError } from './errors.js';

/** How one kind of client (a database driver, a Redis client) says its server cannot be reached. */
export interface DependencyErrorSignature {
  codes?: string[];
  names?: string[];
  messages?: RegExp;
}

// Network failures, whatever the client; the database and Redis modules add their own (db.ts, kv.ts).
const signatures: DependencyErrorSignature[] = [
  { codes: ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'], messages: /connect ECONNREFUSED/ },
];

/** Teaches the error mapping a client's "server unreachable" errors; called once by the module that wraps the client. */
export const registerDependencyErrors = (signature: DependencyErrorSignature): void => {
  signatures.push(signature);
};

const matches = (signature: DependencyErrorSignature, code: unknown, name: unknown, message: unknown): boolean =>
  (typeof code === 'string' && (signature.codes?.includes(code) ?? false)) ||
  (typeof name === 'string' && (signature.names?.includes(name) ?? false)) ||
  (typeof message === 'string' && (signature.messages?.test(message) ?? false));

/** True for errors that mean a dependency (database, Redis, broker, upstream) could not be reached. */
export const isDependencyError = (error: unknown): boolean => {
  if (!error || typeof error !== 'object') return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (signatures.some((signature) => matches(signature, code, name, message))) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDependencyError(cause);
};

export const toAppError = (error: unknown, bodyLimit: string): AppError => {
  if (isAppError(error)) return error;
  const type = (error as { type?: unknown } | null)?.type;
  switch (type) {
    case 'entity.parse.failed':
      return badRequest('malformed_json', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', `The request body is larger than the limit of ${bodyLimit}.`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_media_type', 'The request body encoding or charset is not supported; send UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return badRequest('bad_request', 'The request body was incomplete.');
  }
  if (isDependencyError(error)) {
    const dependency = (error as { dependency?: string }).dependency ?? 'a dependency';
    return dependencyUnavailable(dependency, error);
  }
  return new AppError(500, 'internal_error', 'Something went wrong on our side. The request id identifies it in our logs.', {
    cause: error,
  });
};

/** Sends an error in the one error format of the platform. */
export const sendError = (req: Request, res: Response, error: AppError): void => {
  res.set(error.headers);
  res.status(error.status).json({
    error: error.code,
    message: error.message,
    request_id: req.id,
    ...(error.details ? { details: error.details } : {}),
  });
};
