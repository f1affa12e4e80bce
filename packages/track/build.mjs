/**
 * The package's bundles (esbuild): dist/index.js, the ES module for bundlers and
 * `import { createTracker } from '@galion/track'`, and dist/track.min.js, the minified script for
 * a script tag (the gateway serves it at /track.js). dist/index.d.ts comes from tsc (tsconfig.json).
 * test/size.unit.test.ts builds the script with these same options and holds it under 2 KB gzipped.
 * `node build.mjs` is run in this folder (the package's build script).
 */
import { build } from 'esbuild';

/** The options of each bundle, for the package in `dir`. Browsers of 2020 on: ?? and ?. stay as written. */
export const bundles = (dir) => {
  const common = { absWorkingDir: dir, bundle: true, target: 'es2020', platform: 'browser', legalComments: 'none', logLevel: 'warning' };
  return {
    module: { ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.js' },
    script: { ...common, entryPoints: ['src/script.ts'], format: 'iife', minify: true, outfile: 'dist/track.min.js' },
  };
};

if (process.argv[1]?.endsWith('build.mjs')) {
  Promise.all(Object.values(bundles(process.cwd())).map((options) => build(options))).catch(() => {
    // esbuild has printed what failed.
    process.exitCode = 1;
  });
}
