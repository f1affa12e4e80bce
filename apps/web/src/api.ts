/**
 * The browser's client of the Galion API. The access token lives in this module's memory only;
 * the refresh token is an HttpOnly cookie the browser sends to /api/v1/auth/refresh and /logout,
 * and only with the X-CSRF-Protection header (docs/web-app.md). On a 401 the client refreshes once and
 * repeats the request; when that fails, the session is over.
 */

/** An answer in Galion's error format, with the request id to quote. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details: { path?: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

let accessToken: string | undefined;
let refreshing: Promise<boolean> | undefined;
const sessionListeners = new Set<(signedIn: boolean) => void>();

/** Called with false when the session ends (refresh refused), so the app can send the user to log in. */
export const onSessionChange = (listener: (signedIn: boolean) => void): (() => void) => {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
};

export const setAccessToken = (token: string | undefined): void => {
  accessToken = token;
  for (const listener of sessionListeners) listener(token !== undefined);
};

export const hasAccessToken = (): boolean => accessToken !== undefined;

/** The access token as it is now (none while signed out), for the tracker of the app's page views. */
export const currentAccessToken = (): string | undefined => accessToken;

const errorFrom = async (response: Response): Promise<ApiError> => {
  const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string; request_id?: string; details?: ApiError['details'] };
  return new ApiError(
    response.status,
    body.error ?? `http_${response.status}`,
    body.message ?? `The server answered ${response.status} ${response.statusText}.`,
    body.request_id ?? response.headers.get('x-request-id') ?? undefined,
    body.details,
  );
};

/**
 * Reads always revalidate (`no-cache`): public reads of posts are `Cache-Control: public, max-age=60`
 * with a strong ETag, so the browser asks again with `If-None-Match` and a 304 costs no body, but a
 * comment just written or a post just published shows at once instead of a minute later.
 * A body is sent as JSON, except a file (a Blob), sent as its own bytes with its own type: an upload
 * (docs/media.md); unlike a stream, a Blob can be sent again after a refresh.
 */
const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> => {
  const file = body instanceof Blob ? body : undefined;
  return fetch(path, {
    method,
    credentials: 'same-origin',
    cache: method === 'GET' ? 'no-cache' : 'default',
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': file ? file.type : 'application/json' }),
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
      ...headers,
    },
    body: file ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
};

/**
 * Swaps the refresh cookie for a new access token (and a rotated cookie). One refresh at a time in
 * this tab; another tab refreshing at the same moment is covered by the server's grace window.
 */
export const refreshSession = (): Promise<boolean> => {
  refreshing ??= (async () => {
    try {
      const response = await send('POST', '/api/v1/auth/refresh', {}, { 'x-csrf-protection': '1' });
      if (!response.ok) {
        setAccessToken(undefined);
        return false;
      }
      setAccessToken(((await response.json()) as TokenAnswer).access_token);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
};

/** A request to the API (a JSON body, or a file's bytes); throws ApiError on an error answer. */
export const api = async <T>(method: string, path: string, body?: unknown, options: { csrf?: boolean } = {}): Promise<T> => {
  const response = await answered(method, path, body, options.csrf ? { 'x-csrf-protection': '1' } : {});
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
};

/** The bytes a GET answers (an image of one's own, read with the token); throws ApiError on an error answer. */
export const apiBlob = async (path: string): Promise<Blob> => (await answered('GET', path, undefined, { accept: 'image/*' })).blob();

/** A successful answer: a 401 with a token is retried once after a refresh; an error answer throws ApiError. */
const answered = async (method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> => {
  let response = await send(method, path, body, headers);
  if (response.status === 401 && accessToken && !path.startsWith('/api/v1/auth/refresh')) {
    if (await refreshSession()) response = await send(method, path, body, headers);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
};
