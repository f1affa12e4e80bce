import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/**
 * Names the request's server span after its route template (`GET /api/v1/users/*`, with
 * `http.route`), as the tracing of Express routes does by itself, for requests no Express route
 * serves (the gateway's). The HTTP instrumentation applies it when the response ends.
 */
export const nameServerSpan = (route: string): void => {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
};
