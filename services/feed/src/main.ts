// Tracing first, so that http, express, ioredis and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadFeedConfig } from './config.js';
import { composeFeed } from './service.js';

runService('feed', loadFeedConfig, composeFeed, [{ name: 'tracing', close: shutdownTracing }]);
