import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * Helmet's response headers, worked out once: with static options they are the same for every
 * response, so each request sets a ready list instead of running helmet's dozen middlewares.
 */
export const helmetHeaders = (): [string, string][] => {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string | number) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
};
