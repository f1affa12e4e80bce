// Tracing first, so that http, express, pg, ioredis and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadPostsConfig } from './config.js';
import { composePosts } from './service.js';

runService('posts', loadPostsConfig, composePosts, [{ name: 'tracing', close: shutdownTracing }]);
