// The gateway's generated tables, from the services themselves, so that each fact is said once:
// - services/gateway/src/gateway-routes.json: every route, as the gateway must know it before it
//   proxies (public or not: `access`; its own body limit: `bodyOptions.limit`), from the routes'
//   own declarations; reads the built services (tsc -b first);
// - services/gateway/src/upstreams.json: the services it routes to and their prefixes, from
//   services.json (the gateway's image carries this file, not the manifest).
// `--check` fails when a committed table differs; a test runs it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeOrCheck } from './charts/generated-files.mjs';
import { camelName, ROOT, routedServices } from './services.mjs';

const require = createRequire(import.meta.url);

const routes = routedServices.flatMap(({ name, dir }) => require(join(ROOT, dir, 'dist', 'app.js'))[`${camelName(name)}GatewayRoutes`]());
const upstreams = routedServices.map(({ name, prefix }) => ({ name, prefix }));
writeOrCheck(
  ROOT,
  { 'services/gateway/src/gateway-routes.json': routes, 'services/gateway/src/upstreams.json': upstreams },
  'scripts/gen-gateway-routes.mjs',
);
