import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, env, loadConfig, runMain, z } from '@galion/kit';
import { startLocalCluster } from '@galion/localdeps';
import { installGalion, namespace, publicHost, repoRoot } from './cluster-install.js';

const settingsSchema = z.object({
  GALION_ADMIN_EMAIL: z.email().default('admin@galion.local'),
  GALION_ADMIN_PASSWORD: env.string().optional(),
});

/**
 * `npm run cluster`: Galion on the local Kubernetes cluster (scripts/cluster/cluster.sh) with the
 * dev profile — images built from the Dockerfile, PostgreSQL, Redis and Kafka on the node, the
 * chart installed behind Traefik with TLS from a CA made for this run. It prints how to reach it
 * and stays in the foreground; Ctrl-C removes it all and restores the host (as `npm run
 * cluster:down` does for a run that was killed).
 */
runMain(async () => {
  const settings = loadConfig(settingsSchema);
  const logger = createLogger({ service: 'launcher', level: 'info' });
  const admin = { email: settings.GALION_ADMIN_EMAIL, password: settings.GALION_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url') };

  logger.info('starting the local cluster (the first run builds its components and the images)');
  const cluster = await startLocalCluster({ ownerPid: process.pid });
  logger.info({ kubeconfig: cluster.kubeconfig }, 'cluster ready; installing Galion');
  const installed = await installGalion(cluster, { profile: 'dev', admin });

  const caFile = path.join(repoRoot, '.galion', 'cluster-ca.crt');
  writeFileSync(caFile, installed.ca.caPem);
  const url = `https://${publicHost}:${cluster.ingressHttpsPort}`;
  const resolve = `--resolve ${publicHost}:${cluster.ingressHttpsPort}:${cluster.nodeIp}`;
  const lines = [
    '',
    `Galion is running on the local Kubernetes cluster, release "galion" in namespace "${namespace}".`,
    `  API (Ingress, HTTPS)  ${url}   (${publicHost} is the node ${cluster.nodeIp})`,
    `  CA to trust           ${caFile}`,
    `  kubeconfig            ${cluster.kubeconfig}`,
    `  first admin           ${admin.email} / ${admin.password}`,
    '',
    'Try it:',
    `  curl --cacert ${caFile} ${resolve} ${url}/api/v1/auth/.well-known/jwks.json`,
    `  KUBECONFIG=${cluster.kubeconfig} kubectl -n ${namespace} get pods    # kubectl: $(bash scripts/cluster/install-cluster-tools.sh --print-bin)/kubectl`,
    '',
    'Press Ctrl-C to remove it all (npm run cluster:down does the same for a run that was killed).',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  // The servers and the cluster are detached processes: this one waits for Ctrl-C, then removes them.
  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      process.once(name, () => {
        clearInterval(keepAlive);
        resolveSignal(name);
      });
    }
  });
  logger.info({ signal }, 'removing the release, the dependencies and the cluster');
  await installed.deps.stop();
  await cluster.stop();
  process.exit(0);
});
