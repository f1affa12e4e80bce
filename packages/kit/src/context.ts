import { AsyncLocalStorage } from 'node:async_hooks';

/** What the logs should know about the request being served, wherever the code runs. */
export interface RequestContext {
  requestId: string;
  userId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const runWithContext = <T>(context: RequestContext, fn: () => T): T => storage.run(context, fn);

export const currentContext = (): RequestContext | undefined => storage.getStore();

/** Records the authenticated user on the current request's context, so later log lines carry it. */
export const setContextUser = (userId: string): void => {
  const context = storage.getStore();
  if (context) context.userId = userId;
};
