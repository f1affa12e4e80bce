import { Counter, Gauge, HTTP_DURATION_BUCKETS, Histogram, type Registry } from '@galion/kit';

/**
 * The gateway's own metrics. Their names and labels are a contract with the dashboards and
 * alert rules in charts/ (charts/gateway/dashboards, galion-lib's PrometheusRule): keep them.
 */
export interface GatewayMetrics {
  upstreamDuration: Histogram<'upstream' | 'status_code'>;
  breakerState: Gauge<'upstream'>;
  breakerRejections: Counter<'upstream'>;
  rateLimited: Counter<'policy'>;
  rateLimitStoreErrors: Counter;
  denylistErrors: Counter;
  upstreamRetries: Counter<'upstream'>;
  upstreamShed: Counter<'upstream'>;
  denylistMirrorEntries: Gauge;
}

/** What the gateway reads at each scrape. */
export interface GatewayMetricSources {
  /** Per upstream: 0 closed, 1 half-open, 2 open. */
  breakerStates: () => Record<string, number>;
  /** Revocations held in memory, or -1 while look-ups go to Redis (no mirror, or it is not live). */
  denylistMirrorEntries: () => number;
}

/** The sources are read at each scrape, so a breaker whose cool-down ended shows as half-open. */
export const createGatewayMetrics = (registry: Registry, sources: GatewayMetricSources): GatewayMetrics => ({
  upstreamDuration: new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Time from sending a request upstream to its response headers, by upstream and the status the client got.',
    labelNames: ['upstream', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  }),
  breakerState: new Gauge({
    name: 'gateway_circuit_breaker_state',
    help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      for (const [upstream, value] of Object.entries(sources.breakerStates())) this.set({ upstream }, value);
    },
  }),
  breakerRejections: new Counter({
    name: 'gateway_circuit_breaker_rejections_total',
    help: 'Requests answered 503 at once because the upstream circuit breaker was open.',
    labelNames: ['upstream'] as const,
    registers: [registry],
  }),
  rateLimited: new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests answered 429, by rate-limit policy (ip, user, auth).',
    labelNames: ['policy'] as const,
    registers: [registry],
  }),
  rateLimitStoreErrors: new Counter({
    name: 'gateway_rate_limit_store_errors_total',
    help: 'Rate-limit store (Redis) errors; with RATE_LIMIT_FAIL_OPEN the request went through unlimited.',
    registers: [registry],
  }),
  denylistErrors: new Counter({
    name: 'gateway_denylist_errors_total',
    help: 'Token denylist look-ups that failed (Redis down); the upstream service still checks the denylist itself.',
    registers: [registry],
  }),
  upstreamRetries: new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Requests sent a second time, on a new connection: any whose connection never opened, idempotent ones whose connection broke.',
    labelNames: ['upstream'] as const,
    registers: [registry],
  }),
  upstreamShed: new Counter({
    name: 'gateway_upstream_shed_total',
    help: 'Requests answered 503 upstream_overloaded at once because the upstream had its maximum in flight (UPSTREAM_MAX_IN_FLIGHT).',
    labelNames: ['upstream'] as const,
    registers: [registry],
  }),
  denylistMirrorEntries: new Gauge({
    name: 'gateway_denylist_mirror_entries',
    help: 'Token revocations held in memory, so that a request needs no Redis look-up; -1 while revocation is looked up in Redis per request (the mirror is loading, or its subscription broke).',
    registers: [registry],
    collect() {
      this.set(sources.denylistMirrorEntries());
    },
  }),
});
