/**
 * The fast tier (`npm run test:unit`): the pure-logic tests, named `*.unit.test.ts`, with no
 * network, database, child process or global setup. The same compilation and module mapping as
 * the main run (jest.config.js), which runs these tests too, without starting PostgreSQL, Redis
 * or Kafka.
 */
const { globalSetup: _setup, globalTeardown: _teardown, maxWorkers: _workers, ...main } = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...main,
  testMatch: ['**/test/**/*.unit.test.ts', '<rootDir>/tests/**/*.unit.test.ts'],
  // Pure tests answer in milliseconds; one that waits this long is waiting for something it should not.
  testTimeout: 5_000,
};
