// Tracing first, so that http, express and ioredis are instrumented when they load.
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadGatewayConfig } from './config.js';
import { composeGateway } from './service.js';

runService('gateway', loadGatewayConfig, composeGateway, [{ name: 'tracing', close: shutdownTracing }]);
