// Shared by the generators of committed files (charts' schemas and dashboards, the gateway's public
// routes, the configuration tables of the docs): write the generated files, or with --check say which
// committed ones differ from what the generator makes now and exit 1.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `files`: path to JSON, or to the whole text of a file; `generator`: its path from the repository root, for the message. */
export const writeOrCheck = (baseDir, files, generator) => {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, json] of Object.entries(files)) {
    const text = typeof json === 'string' ? json : `${JSON.stringify(json, null, 2)}\n`;
    const path = join(baseDir, file);
    if (!check) {
      // A new service's chart has no dashboards/ folder yet.
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      continue;
    }
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      console.error(`${relative(ROOT, path)} is out of date: run node ${generator}`);
      stale++;
    }
  }
  process.exit(stale ? 1 : 0);
};
