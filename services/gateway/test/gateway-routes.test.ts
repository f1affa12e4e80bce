import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe("the gateway's table of public routes", () => {
  it('when the services declare their routes, then the committed table is what scripts/gen-gateway-routes.mjs makes of them', () => {
    const check = spawnSync(process.execPath, [path.join(ROOT, 'scripts/gen-gateway-routes.mjs'), '--check'], { encoding: 'utf8' });

    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
