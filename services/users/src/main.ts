// Tracing first, so that http, express, pg, ioredis and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadUsersConfig } from './config.js';
import { composeUsers } from './service.js';

runService('users', loadUsersConfig, composeUsers, [{ name: 'tracing', close: shutdownTracing }]);
