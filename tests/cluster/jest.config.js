/**
 * The cluster tier: Galion on the local Kubernetes cluster. Run by scripts/test.sh after the main
 * run, alone, since it starts its own PostgreSQL, Redis, Kafka and S3 server on the node's address
 * and needs the machine's cores for its pods (three of each service).
 */
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/tests/cluster'],
  testMatch: ['<rootDir>/tests/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: undefined,
  globalTeardown: undefined,
  maxWorkers: 1,
};
