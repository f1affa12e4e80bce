import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the configuration tables of the README and docs/', () => {
  it('when the env schemas describe their variables, then the committed tables are what scripts/gen-config-docs.mjs makes of them', () => {
    const check = spawnSync(process.execPath, [path.join(ROOT, 'scripts/gen-config-docs.mjs'), '--check'], { encoding: 'utf8' });

    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
