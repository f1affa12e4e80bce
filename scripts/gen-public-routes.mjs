// The gateway's table of public routes (services/gateway/src/public-routes.json), generated from the
// routes' own declarations (`access: { public: ... }` in each service's routes): a route's access is
// said once, where the route is. Reads the built services (tsc -b first). `--check` fails when the
// committed table differs; a test runs it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOrCheck } from './charts/generated-files.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SERVICES = ['auth', 'users', 'analytics'];

const routes = SERVICES.flatMap((service) => require(join(ROOT, 'services', service, 'dist', 'app.js'))[`${service}PublicRoutes`]());
writeOrCheck(ROOT, { 'services/gateway/src/public-routes.json': routes }, 'scripts/gen-public-routes.mjs');
