import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The services of services.json: the shared packages sit below them and never import one (apps/ may). */
const services = JSON.parse(readFileSync(new URL('./services.json', import.meta.url), 'utf8')).services.map((service) => service.name);

/** An import from another folder of a service's src/ (`../repositories/x.js`), however deep the importing file sits. */
const folder = (name, message) => ({ regex: `^\\.{1,2}/(\\.\\./)*${name}/`, message });
const express = { regex: '^express(/|$)', message: 'HTTP is the routes’ business; take what the decision needs as plain values.' };
const schemas = { regex: '^\\.{1,2}/(\\.\\./)*schemas(\\.js)?$', message: 'schemas.ts is the HTTP contract, read by the routes.' };

/** The layers of a service (docs/architecture.md, "Layers"): each folder and what it must not import. */
const layers = {
  routes: [
    folder('repositories', 'Routes call the domain; import record types from domain/, which re-exports them.'),
    folder('consumers', 'Routes and consumers are both entry points: share through the domain.'),
  ],
  consumers: [
    folder('repositories', 'Consumers call the domain, which owns the repositories.'),
    folder('routes', 'Routes and consumers are both entry points: share through the domain.'),
    express,
  ],
  domain: [
    folder('routes', 'The domain is called by the entry points, never the other way.'),
    folder('consumers', 'The domain is called by the entry points, never the other way.'),
    express,
    schemas,
  ],
  repositories: [
    folder('domain', 'Repositories define the records they return; the domain imports them, not the other way.'),
    folder('routes', 'Repositories only run SQL.'),
    folder('consumers', 'Repositories only run SQL.'),
    express,
    schemas,
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs', 'charts/**', '.galion/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...Object.entries(layers).map(([name, patterns]) => ({
    files: [`services/*/src/${name}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  })),
  {
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^@galion/(${services.join('|')}|launcher|bench)(/|$)`,
              message: 'Shared packages sit below the services and the apps: a tool that runs services belongs in apps/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/test/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
