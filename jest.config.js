/**
 * One jest run for the whole workspace. TypeScript is compiled by swc (no type checking here:
 * `tsc -b` does that before tests run). ESM-only dependencies are compiled too.
 */
const esmOnly = ['jose'];
/** Each service of services.json: @galion/<name> resolves to its folder's src/, like the packages below. */
const services = require('./services.json').services.flatMap(({ name, dir }) => [
  [`^@galion/${name}$`, `<rootDir>/${dir}/src/service.ts`],
  [`^@galion/${name}/(.+)$`, `<rootDir>/${dir}/src/$1.ts`],
]);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/packages', '<rootDir>/services', '<rootDir>/charts', '<rootDir>/scripts', '<rootDir>/tests'],
  testMatch: ['**/test/**/*.test.ts', '<rootDir>/tests/**/*.test.ts'],
  // The cluster tier has its own run (tests/cluster/jest.config.js).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/tests/cluster/'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.(t|m?j)s$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/)?(${esmOnly.join('|')})[@/])`],
  // Workspace packages resolve to their sources, so tests never run stale builds.
  moduleNameMapper: {
    ...Object.fromEntries(services),
    '^@galion/launcher$': '<rootDir>/apps/launcher/src/platform.ts',
    '^@galion/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@galion/([a-z-]+)/(.+)$': '<rootDir>/packages/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/packages/localdeps/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/packages/localdeps/src/jest-global-teardown.ts',
  testTimeout: 30_000,
  maxWorkers: 2,
};
