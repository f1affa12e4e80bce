import type { RequestHandler } from 'express';

/** Runs handlers in order, as a router would, without a router's per-layer path matching. */
export const chain =
  (handlers: RequestHandler[]): RequestHandler =>
  (req, res, done) => {
    let finished = false;
    const end = (error?: unknown) => {
      if (finished) return;
      finished = true;
      done(error);
    };
    // A promise rejected without a reason still fails the request, as in Express.
    const fail = (error: unknown) => end(error ?? new Error('rejected without a reason'));
    const run = (index: number) => {
      const handler = handlers[index];
      if (!handler) return end();
      let passed = false;
      // Each handler passes the request on once; a second call is ignored.
      const next = (error?: unknown) => {
        if (passed) return;
        passed = true;
        if (error !== undefined && error !== null) end(error);
        else run(index + 1);
      };
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch(fail);
      } catch (thrown) {
        fail(thrown);
      }
    };
    run(0);
  };
