import { benchAuth } from './auth.js';

const SUITES: Record<string, (options: { seconds: number; concurrency: number }) => Promise<void>> = {
  auth: benchAuth,
  analytics: (options) => import('./analytics.js').then((suite) => suite.benchAnalytics(options)),
  content: (options) => import('./content.js').then((suite) => suite.benchContent(options)),
  // The proxy's cost, and beside it the platform under 1,000 connections through the same gateway.
  gateway: async (options) => {
    await import('./gateway.js').then((suite) => suite.benchGateway(options));
    await import('./gateway-load.js').then((suite) => suite.benchGatewayLoad(options));
  },
  'gateway-load': (options) => import('./gateway-load.js').then((suite) => suite.benchGatewayLoad(options)),
  media: (options) => import('./media.js').then((suite) => suite.benchMedia(options)),
  pipeline: (options) => import('./pipeline.js').then((suite) => suite.benchPipeline(options)),
  tracking: (options) => import('./tracking.js').then((suite) => suite.benchTracking(options)),
  web: (options) => import('./web.js').then((suite) => suite.benchWeb(options)),
};

/** Suites that are part of another (gateway-load of gateway), run only when named. */
const PARTS = new Set(['gateway-load']);

/** `npm run bench [suite ...]`: runs the named suites (all by default) and prints their figures. */
const main = async () => {
  const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);
  const names = requested.length > 0 ? requested : Object.keys(SUITES).filter((name) => !PARTS.has(name));
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite) throw new Error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    await suite({ seconds, concurrency });
  }
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
