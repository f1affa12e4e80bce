// Tracing first, so that http, express, pg, ioredis and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { createLogger, runMain, serveService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadUsersConfig } from './config.js';
import { composeUsers } from './service.js';

runMain(async () => {
  const config = loadUsersConfig();
  const logger = createLogger({ service: 'users', level: config.logLevel });
  const service = await composeUsers(config, { logger });
  service.closers.push({ name: 'tracing', close: shutdownTracing });
  await serveService(service, {
    name: 'users',
    logger,
    port: config.port,
    host: config.host,
    metricsPort: config.metricsPort,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    drainDelayMs: config.drainDelayMs,
  });
});
