import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  connectStore,
  createMetrics,
  Health,
  RedisStore,
  type ComposedService,
  type KeyValueStore,
  type Logger,
  httpSettings,
} from '@galion/kit';
import { createTokenVerifier, DenylistMirror, StoreDenylist, type KeySource, type TokenVerifier } from '@galion/tokens';
import type { RequestHandler } from 'express';
import { createGatewayApp } from './app.js';
import { BREAKER_STATE_VALUE, CircuitBreaker } from './breaker.js';
import type { GatewayConfig, UpstreamConfig } from './config.js';
import { FailOpenDenylist } from './denylist.js';
import { createDocsSite } from './docs.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { OpenApiAggregator } from './openapi.js';
import { createUpstreamProxy } from './proxy.js';
import { findWebAppDir, webAppHandler } from './web-app.js';
import { createRateLimiters } from './rate-limit.js';
import { createTrackScript } from './track-script.js';

export { loadGatewayConfig, type GatewayConfig } from './config.js';
export { BREAKER_STATE_VALUE, CircuitBreaker, type BreakerState } from './breaker.js';

export interface GatewayInfrastructure {
  logger: Logger;
  /**
   * A store shared with other services in one process (all-in-one: the in-process store auth
   * writes revocations to), used for the denylist and the rate-limit counters. A kit RedisStore
   * here is used through its client and key prefix. Otherwise Redis from REDIS_URL, or memory.
   */
  store?: KeyValueStore;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS at AUTH_JWKS_URL. */
  keys?: KeySource;
}

export interface ComposedGateway extends ComposedService {
  verifier: TokenVerifier;
  breakers: Map<string, CircuitBreaker>;
  gatewayMetrics: GatewayMetrics;
  openapi: OpenApiAggregator;
}

/** Is the upstream process there? Its /livez, so one service's own dependency outage does not take the gateway out. */
const upstreamReachable = (upstream: UpstreamConfig, timeoutMs: number) => async () => {
  const response = await fetch(`${upstream.url}/livez`, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${upstream.name} /livez answered HTTP ${response.status}`);
};

/** Composes the gateway from its configuration: stores, verifier, limiters, breakers, proxies, app, health. */
export const composeGateway = async (config: GatewayConfig, infra: GatewayInfrastructure): Promise<ComposedGateway> => {
  const { logger } = infra;
  const closers: ComposedService['closers'] = [];
  const metrics = createMetrics({ build: config.build });
  const health = new Health();

  // Fail open means the gateway works without Redis, so Redis is then no readiness condition.
  const store = await connectStore({
    injected: infra.store,
    redisUrl: config.redisUrl,
    logger,
    health,
    closers,
    checkReadiness: config.rateLimit.enabled && !config.rateLimit.failOpen,
    // Rate-limit leases and, while the denylist mirror loads, revocation look-ups: one write for those of a turn.
    autoPipelining: true,
  });
  // In Redis the denylist is mirrored in memory (no look-up per request); an in-process store is memory already.
  const mirror = store instanceof RedisStore ? new DenylistMirror(store, { logger }) : undefined;
  if (mirror) {
    mirror.start();
    closers.push({ name: 'denylist mirror', close: () => mirror.close() });
  }

  const breakers = new Map<string, CircuitBreaker>();
  const gatewayMetrics = createGatewayMetrics(metrics.registry, {
    breakerStates: () =>
      Object.fromEntries(
        config.upstreams.map((upstream) => [upstream.name, BREAKER_STATE_VALUE[breakers.get(upstream.name)?.state ?? 'closed']]),
      ),
    denylistMirrorEntries: () => {
      const status = mirror?.status();
      return status?.live ? status.entries : -1;
    },
  });

  const verifier = createTokenVerifier(config.verifier, {
    keys: infra.keys,
    logger,
    denylist: new FailOpenDenylist(mirror ?? new StoreDenylist(store), () => gatewayMetrics.denylistErrors.inc(), logger),
  });
  const limiters = createRateLimiters(config.rateLimit, store, { metrics: gatewayMetrics, logger });
  closers.push({ name: 'rate-limit leases', close: () => limiters.close() });

  const agentOptions = {
    keepAlive: true,
    maxSockets: config.agent.maxSockets ?? Infinity,
    maxFreeSockets: config.agent.maxFreeSockets,
    scheduling: 'lifo' as const,
    // An idle connection is dropped after UPSTREAM_IDLE_TIMEOUT_MS, or a second before the
    // service's announced Keep-Alive timeout if that is shorter, so the gateway never sends on a
    // connection the service is closing: not at its keep-alive timeout, and not while it drains
    // (shorter than the drain delay). Busy sockets are not affected.
    timeout: config.agent.idleTimeoutMs,
  };
  const httpAgent = new Agent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  closers.push({
    name: 'upstream connections',
    close: async () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });

  const proxies = new Map<string, RequestHandler>();
  for (const upstream of config.upstreams) {
    const breaker = config.breaker.enabled
      ? new CircuitBreaker(upstream.name, config.breaker, {
          onStateChange: (state, previous) =>
            logger[state === 'open' ? 'warn' : 'info']({ upstream: upstream.name, state, previous }, 'circuit breaker state changed'),
        })
      : undefined;
    if (breaker) breakers.set(upstream.name, breaker);
    proxies.set(
      upstream.name,
      createUpstreamProxy({
        upstream,
        agent: upstream.url.startsWith('https:') ? httpsAgent : httpAgent,
        breaker,
        metrics: gatewayMetrics,
        logger,
      }),
    );
    health.addCheck(upstream.name, upstreamReachable(upstream, config.readinessTimeoutMs));
  }

  const openapi = new OpenApiAggregator({ upstreams: config.upstreams, ttlMs: config.openApiCacheTtlMs, logger });

  const webAppDir = config.webApp.enabled ? findWebAppDir(config.webApp.dir) : undefined;
  if (config.webApp.enabled && !webAppDir) logger.warn('the web app is not built (pnpm --filter @galion/web build): / answers 404');
  const app = createGatewayApp({
    docs: createDocsSite(),
    trackScript: createTrackScript(),
    webApp: webAppDir ? webAppHandler(webAppDir) : undefined,
    logger,
    metrics,
    health,
    upstreams: config.upstreams,
    proxies,
    verifier,
    limiters,
    openapi,
    ...httpSettings(config),
  });
  return { app, metrics, health, closers, verifier, breakers, gatewayMetrics, openapi };
};
