// Shared by the chart generators: write the generated files, or with --check say which committed
// ones differ from what the generator makes now and exit 1.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const writeOrCheck = (chartsDir, files, generator) => {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, json] of Object.entries(files)) {
    const text = `${JSON.stringify(json, null, 2)}\n`;
    const path = join(chartsDir, file);
    if (!check) {
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
      console.error(`charts/${file} is out of date: run node scripts/charts/${generator}`);
      stale++;
    }
  }
  process.exit(stale ? 1 : 0);
};
