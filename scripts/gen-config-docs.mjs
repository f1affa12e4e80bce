#!/usr/bin/env node
// The configuration tables of README.md and docs/*.md, made from the env schemas themselves: each
// variable's description (`.describe(...)`, or `.meta({ description, unset })`) and its zod default
// are written once, in the schema, and rendered here between `<!-- config:<table>:start -->` and
// `<!-- config:<table>:end -->`; the prose around the markers is kept. Reads the built packages and
// services (tsc -b first). `--check` fails when a committed table differs; a test runs it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOrCheck } from './charts/generated-files.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const GENERATOR = 'scripts/gen-config-docs.mjs';
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

const built = (dir, file) => {
  const path = join(ROOT, dir, 'dist', file);
  if (!existsSync(path)) throw new Error(`${dir}/dist/${file} is missing: build first (pnpm exec tsc -b)`);
  return require(path);
};
const kit = built('packages/kit', 'index.js');
const tokens = built('packages/tokens', 'index.js');
const events = built('packages/events', 'index.js');
const launcher = built('apps/launcher', 'settings.js');
// Each service of the manifest exports its env schema as <name>EnvSchema from src/config.ts.
const services = JSON.parse(readFileSync(join(ROOT, 'services.json'), 'utf8')).services.map(({ name, dir }) => {
  const schema = built(dir, 'config.js')[`${name}EnvSchema`];
  if (!schema?.shape) throw new Error(`${dir}/src/config.ts exports no ${name}EnvSchema (a z.object of its variables)`);
  return { name, shape: schema.shape };
});

const problems = [];
const META_KEYS = new Set(['description', 'unset']);
const code = (text) => `\`${text}\``;
const cell = (text) => text.replaceAll('|', '\\|');
const shown = (value) => (Array.isArray(value) ? (value.length > 0 ? code(value.join(',')) : 'none') : code(String(value)));

/** What applies when the variable is not set: the zod default, the schema's `unset` text, none, or required. */
const defaultOf = (name, schema) => {
  const { type } = schema.def;
  const unset = schema.meta()?.unset;
  if (unset !== undefined && type !== 'optional') problems.push(`${name}: \`unset\` is for optional variables; this one is ${type}`);
  if (type === 'default') return shown(schema.def.defaultValue);
  if (type === 'optional') return unset ?? 'none';
  return 'required';
};

const row = ([name, schema]) => {
  const meta = schema.meta() ?? {};
  for (const key of Object.keys(meta)) if (!META_KEYS.has(key)) problems.push(`${name}: unknown meta key "${key}"`);
  if (!meta.description) problems.push(`${name}: no description (.describe('...') in its env schema)`);
  return `| ${code(name)} | ${cell(defaultOf(name, schema))} | ${cell(meta.description ?? '')} |`;
};
const table = (entries) => ['| variable | default | what it does |', '|---|---|---|', ...entries.map(row)].join('\n');

/** A variable is shared when a service takes its schema from a group as it is; one it redescribes is its own. */
const SHARED = [kit.commonEnv, kit.redisEnv, kit.databaseEnv, tokens.verifierEnv, events.kafkaEnv, events.outboxEnv];
const isShared = (name, schema) => SHARED.some((group) => group[name] === schema);
const own = (service) =>
  Object.entries(services.find((s) => s.name === service).shape).filter(([name, schema]) => name !== 'PORT' && !isShared(name, schema));

/** PORT is every service's, with its own default: one row naming each. */
const portRow = () => {
  const ports = services.map(({ name, shape }) => [name, shape.PORT]);
  const descriptions = new Set(ports.map(([, schema]) => schema.meta()?.description));
  if (descriptions.size !== 1) problems.push('PORT: the services describe it differently (use portEnv)');
  const defaults = ports.map(([name, schema]) => `${name} ${defaultOf('PORT', schema)}`).join(', ');
  return `| ${code('PORT')} | ${defaults} | ${cell([...descriptions][0] ?? '')} |`;
};

const RECOVERY_MAIL = /^AUTH_(SMTP|MAIL|LINK|RESET|VERIFICATION|RECOVERY)_/;
const CONSUMER_GROUP = /_CONSUMER_GROUP$/;
const auth = own('auth');
const TABLES = {
  launcher: () => table(Object.entries(launcher.allInOneEnvSchema.shape)),
  common: () => {
    const [header, rule, ...rows] = table([...Object.entries(kit.commonEnv), ...Object.entries(kit.redisEnv)]).split('\n');
    return [header, rule, portRow(), ...rows].join('\n');
  },
  database: () => table(Object.entries(kit.databaseEnv)),
  tokens: () => table(Object.entries(tokens.verifierEnv)),
  events: () =>
    table([
      ...Object.entries(events.kafkaEnv),
      ...Object.entries(events.outboxEnv),
      ...services.flatMap(({ name }) => own(name).filter(([variable]) => CONSUMER_GROUP.test(variable))),
    ]),
  auth: () => table(auth.filter(([name]) => !RECOVERY_MAIL.test(name))),
  'auth-mail': () => table(auth.filter(([name]) => RECOVERY_MAIL.test(name))),
  ...Object.fromEntries(services.filter(({ name }) => name !== 'auth').map(({ name }) => [name, () => table(own(name))])),
};

const MARKER = /<!-- config:([a-z-]+):start -->\n[\s\S]*?<!-- config:\1:end -->/g;
const placed = new Set();
const files = {};
for (const file of DOCS) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (!text.includes('<!-- config:')) continue;
  files[file] = text.replace(MARKER, (_, name) => {
    if (!TABLES[name]) {
      problems.push(`${file}: no table named "${name}" (${Object.keys(TABLES).join(', ')})`);
      return _;
    }
    placed.add(name);
    return `<!-- config:${name}:start -->\n\n${TABLES[name]()}\n\n<!-- config:${name}:end -->`;
  });
  const unmatched = files[file].replace(MARKER, '').match(/<!-- config:[a-z-]+:(start|end) -->/);
  if (unmatched) problems.push(`${file}: ${unmatched[0]} has no partner`);
}
// Every table has a place, so no variable goes undocumented.
for (const name of Object.keys(TABLES)) if (!placed.has(name)) problems.push(`no document has <!-- config:${name}:start -->`);

if (problems.length > 0) {
  console.error(`${GENERATOR}:\n${[...new Set(problems)].map((problem) => `  ${problem}`).join('\n')}`);
  process.exit(1);
}
writeOrCheck(ROOT, files, GENERATOR);
