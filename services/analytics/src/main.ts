// Tracing first, so that http, express, pg and kafkajs are instrumented when they load.
import '@galion/kit/tracing';
import { runService } from '@galion/kit';
import { shutdownTracing } from '@galion/kit/tracing';
import { loadAnalyticsConfig } from './config.js';
import { composeAnalytics } from './service.js';

runService('analytics', loadAnalyticsConfig, composeAnalytics, [{ name: 'tracing', close: shutdownTracing }]);
