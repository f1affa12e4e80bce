// Tracing first, so that http, express, pg and ioredis are instrumented when they load.
import '@galion/kit/tracing';
import { createLogger, runMain, serveService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadAuthConfig } from './config.js';
import { composeAuth } from './service.js';

runMain(async () => {
  const config = loadAuthConfig();
  const logger = createLogger({ service: 'auth', level: config.logLevel });
  const service = await composeAuth(config, { logger });
  service.closers.push({ name: 'tracing', close: shutdownTracing });
  await serveService(service, {
    name: 'auth',
    logger,
    port: config.port,
    host: config.host,
    metricsPort: config.metricsPort,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    drainDelayMs: config.drainDelayMs,
  });
});
