// Tracing first, so that http and express are instrumented when they load.
import '@galion/kit/tracing';
import { createLogger, runMain, serveService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadGatewayConfig } from './config.js';
import { composeGateway } from './service.js';

runMain(async () => {
  const config = loadGatewayConfig();
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  const service = await composeGateway(config, { logger });
  service.closers.push({ name: 'tracing', close: shutdownTracing });
  await serveService(service, {
    name: 'gateway',
    logger,
    port: config.port,
    host: config.host,
    metricsPort: config.metricsPort,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    drainDelayMs: config.drainDelayMs,
  });
});
