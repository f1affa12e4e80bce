import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundles } from '../build.mjs';

/** The script tag's bundle, built from the sources with the options of the package's build (in memory). */
const buildScript = async (): Promise<Buffer> => {
  const result = await build({ ...bundles(resolve(__dirname, '..')).script, write: false });
  return Buffer.from(result.outputFiles[0]!.contents);
};

describe('dist/track.min.js', () => {
  it('when the script for a script tag is built, then it is under 2 KB gzipped (level 9)', async () => {
    const script = await buildScript();
    const gzipped = gzipSync(script, { level: 9 }).length;
    console.log(`track.min.js: ${script.length} bytes, ${gzipped} bytes gzipped`);

    expect(gzipped).toBeLessThan(2048);
  });

  it('when it is built, then it is one self-contained function that reads its own script tag and sets window.galion', async () => {
    const script = (await buildScript()).toString('utf8');

    expect(script).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(script).not.toMatch(/\b(import|export|require)\b/);
    expect(script).toContain('document.currentScript');
    expect(script).toContain('window.galion=');
  });
});
