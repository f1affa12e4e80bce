import type { Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BuildInfo } from './config.js';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A service's metric registry: process defaults plus the HTTP RED histogram. */
export interface ServiceMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/**
 * Services are told apart by Prometheus's `job` label (set by the scrape config), never by a
 * metric label, so the same queries work in the cluster and on a laptop.
 */
export const createMetrics = (options: { defaultMetrics?: boolean; build?: BuildInfo } = {}): ServiceMetrics => {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  if (options.build) {
    // Always 1: the labels say which build each pod runs, so a rollout can be watched in Prometheus.
    new Gauge({
      name: 'galion_build_info',
      help: 'The release (version) and source revision this process runs; the value is always 1.',
      labelNames: ['version', 'revision'] as const,
      registers: [registry],
    }).set(options.build, 1);
  }
  const httpRequestDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests served, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  return { registry, httpRequestDuration };
};

/**
 * Reads what a scrape-time metric (a gauge's `collect()`) needs from a dependency, bounded: resolves
 * to undefined instead of failing when `read` rejects or has not answered within `timeoutMs`. A
 * scrape must answer quickly while a database or broker is down (else the target looks down too),
 * and a gauge that is not set keeps its last value.
 */
export const readForScrape = async <T>(read: PromiseLike<T>, timeoutMs: number): Promise<T | undefined> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([read, timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
};

/** The route label for a request: the template it matched, never the raw path (bounded cardinality). */
export const routeLabel = (res: Response): string => (res.locals.routeTemplate as string | undefined) ?? 'unmatched';

interface PoolLike {
  numUsed(): number;
  numPendingAcquires(): number;
  max: number;
}

/** Connection pool gauges, read at scrape time, for the "DB pool saturated" alert. */
export const registerPoolMetrics = (registry: Registry, pool: () => PoolLike | undefined): void => {
  const read = (gauge: Gauge, value: (p: PoolLike) => number) => {
    const current = pool();
    gauge.set(current ? value(current) : 0);
  };
  new Gauge({
    name: 'db_pool_connections_used',
    help: 'Database connections checked out of the pool.',
    registers: [registry],
    collect() {
      read(this, (p) => p.numUsed());
    },
  });
  new Gauge({
    name: 'db_pool_connections_max',
    help: 'Size limit of the database connection pool.',
    registers: [registry],
    collect() {
      read(this, (p) => p.max);
    },
  });
  new Gauge({
    name: 'db_pool_pending_acquires',
    help: 'Queries waiting for a free database connection.',
    registers: [registry],
    collect() {
      read(this, (p) => p.numPendingAcquires());
    },
  });
};
