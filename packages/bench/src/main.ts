import { benchAuth } from './auth.js';

const SUITES: Record<string, (options: { seconds: number; concurrency: number }) => Promise<void>> = {
  auth: benchAuth,
  analytics: (options) => import('./analytics.js').then((suite) => suite.benchAnalytics(options)),
  gateway: (options) => import('./gateway.js').then((suite) => suite.benchGateway(options)),
  pipeline: (options) => import('./pipeline.js').then((suite) => suite.benchPipeline(options)),
  web: (options) => import('./web.js').then((suite) => suite.benchWeb(options)),
};

/** `npm run bench [suite ...]`: runs the named suites (all by default) and prints their figures. */
const main = async () => {
  const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);
  const names = requested.length > 0 ? requested : Object.keys(SUITES);
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
