/**
 * The one error family of every Galion service. Domain code throws these; the error handler turns
 * them into `{ error, message, request_id, details? }` with the right status. Anything else that
 * reaches the handler is a bug and becomes a 500 whose message reveals nothing.
 */
export interface ErrorDetail {
  path: string;
  message: string;
  code?: string;
}

export interface AppErrorOptions {
  details?: ErrorDetail[];
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (code: string, message: string, details?: ErrorDetail[]) => new AppError(400, code, message, { details });

export const validationFailed = (details: ErrorDetail[], message = 'The request is not valid.') =>
  new AppError(400, 'validation_failed', message, { details });

export const unauthorized = (code: string, message: string, headers?: Record<string, string>) =>
  new AppError(401, code, message, { headers });

export const forbidden = (message = 'You are not allowed to do this.', code = 'forbidden') => new AppError(403, code, message);

export const notFound = (message = 'Not found.', code = 'not_found') => new AppError(404, code, message);

/** A method the path's route does not take: 405 with the methods it does (`Allow`). */
export const methodNotAllowed = (method: string, allowed: readonly string[]) =>
  new AppError(405, 'method_not_allowed', `${method} is not allowed here; use ${allowed.join(', ')}.`, {
    headers: { Allow: allowed.join(', ') },
  });

export const conflict = (code: string, message: string) => new AppError(409, code, message);

export const unprocessable = (code: string, message: string, details?: ErrorDetail[]) => new AppError(422, code, message, { details });

export const tooManyRequests = (retryAfterSeconds: number, message = 'Too many requests. Try again later.') =>
  new AppError(429, 'rate_limited', message, {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

export const dependencyUnavailable = (dependency: string, cause?: unknown) =>
  new AppError(503, 'dependency_unavailable', `A service this request needs (${dependency}) is unavailable. Try again shortly.`, {
    cause,
    headers: { 'Retry-After': '5' },
  });

export const isAppError = (value: unknown): value is AppError => value instanceof AppError;
