// Tracing first, so that http, express, pg and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { createLogger, runMain, serveService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadAnalyticsConfig } from './config.js';
import { composeAnalytics } from './service.js';

runMain(async () => {
  const config = loadAnalyticsConfig();
  const logger = createLogger({ service: 'analytics', level: config.logLevel });
  const service = await composeAnalytics(config, { logger });
  service.closers.push({ name: 'tracing', close: shutdownTracing });
  await serveService(service, {
    name: 'analytics',
    logger,
    port: config.port,
    host: config.host,
    metricsPort: config.metricsPort,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    drainDelayMs: config.drainDelayMs,
  });
});
