// The thread pool's size first, before anything can use the pool; then tracing, so that http,
// express, pg, ioredis and kafkajs are instrumented when they load.
import './threadpool.js';
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadAuthConfig } from './config.js';
import { composeAuth } from './service.js';

runService('auth', loadAuthConfig, composeAuth, [{ name: 'tracing', close: shutdownTracing }]);
