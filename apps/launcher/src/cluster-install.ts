/**
 * Installs Galion on the local cluster (scripts/cluster/cluster.sh) as a deployer would: its
 * dependencies behind Services in galion-deps, the Secrets the chart names, the Prometheus
 * Operator CRDs, images built from the repository's Dockerfile, then `helm install --wait
 * --wait-for-jobs`, with one of two profiles:
 * - production-like (the cluster tests): 3 replicas, HPA, PDB, NetworkPolicies, ServiceMonitors,
 *   PrometheusRules, Ingress TLS;
 * - dev (`npm run cluster`): one replica each, NetworkPolicies and Ingress TLS, no autoscaling.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterCrdDir,
  pollFor,
  runCommand,
  startClusterDependencies,
  type ClusterDependencies,
  type LocalCluster,
  type LocalClusterInfo,
} from '@galion/localdeps';
import { GATEWAY, manifest as servicesManifest, REPO_ROOT } from '@galion/manifest';

export const repoRoot = REPO_ROOT;
export const namespace = 'galion';
export const depsNamespace = 'galion-deps';
export const release = 'galion';
export const publicHost = 'galion.test';
/** Every service of services.json: each a Deployment of the release. */
export const services: readonly string[] = servicesManifest.names;
/** A name of services.json. */
export type ServiceName = string;
/** Services with a database of their own. */
export const databaseServices: readonly string[] = servicesManifest.withDatabase().map((service) => service.name);
/** Services that keep files in the S3 store: each gets a bucket `galion-<name>` and a Secret with the store's key. */
export const objectStoreServices: readonly string[] = servicesManifest.services
  .filter((service) => service.dependencies.includes('s3'))
  .map((service) => service.name);
/** The port of the S3 store's Service in galion-deps (the pods' endpoint names it; the store listens elsewhere). */
const s3ServicePort = 9000;

export interface AdminAccount {
  email: string;
  password: string;
}

export interface TestCa {
  /** PEM of the CA that signed the Ingress certificate: what a client trusts. */
  caPem: string;
  dir: string;
}

const helmBin = async (): Promise<string> => {
  const { stdout } = await runCommand('bash', [join(repoRoot, 'scripts', 'install-chart-tools.sh'), '--print-dir']);
  return join(stdout.trim(), 'bin', 'helm');
};

/** A CA of the test's own and a certificate for the public host, made with openssl. */
export const makeTestCa = (): TestCa => {
  const dir = mkdtempSync(join(tmpdir(), 'galion-cluster-ca-'));
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=Galion cluster test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign', '-keyout', 'ca.key', '-out', 'ca.crt']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${publicHost}`,
    '-keyout', 'tls.key', '-out', 'tls.csr']);
  writeFileSync(join(dir, 'tls.ext'), `subjectAltName=DNS:${publicHost}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'tls.ext', '-out', 'tls.crt']);
  return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), dir };
};

const manifest = (objects: object[]): string => objects.map((o) => JSON.stringify(o)).join('\n---\n');

/** Selector-less Services whose EndpointSlices point at the node, where the dependencies listen. */
const dependencyServices = (cluster: LocalCluster, deps: ClusterDependencies): object[] =>
  (
    [
      ['postgres', 5432, deps.ports.postgres],
      ['redis', 6379, deps.ports.redis],
      ['kafka', 9092, deps.ports.kafka],
      ['s3', s3ServicePort, deps.ports.s3],
    ] as const
  ).flatMap(([name, port, nodePort]) => [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: depsNamespace, labels: { 'app.kubernetes.io/name': name } },
      spec: { ports: [{ name, port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-node`, namespace: depsNamespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [cluster.nodeIp], conditions: { ready: true } }],
      ports: [{ name, port: nodePort, protocol: 'TCP' }],
    },
  ]);

const namespaces = (): object[] => [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: depsNamespace } },
];

const secret = (name: string, data: Record<string, string>, type = 'Opaque'): object => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type,
  metadata: { name, namespace },
  stringData: data,
});

export type ClusterProfile = 'production-like' | 'dev';

/**
 * The chart values of a profile, with what only this cluster knows (addresses, ports, image tag).
 * Both profiles run with NetworkPolicies and Ingress TLS; production-like adds 3 replicas, HPA,
 * PDB and the monitoring objects.
 */
export const clusterValues = (profile: ClusterProfile, cluster: LocalClusterInfo, deps: ClusterDependencies, imageTag: string): Record<string, unknown> => {
  const node = [{ ipBlock: { cidr: `${cluster.nodeIp}/32` } }];
  // CPU requests sized for two cores (2,000m, of which the cluster's own pods ask 150m: CoreDNS,
  // metrics-server, Traefik). The gateway asks 100m, since its HPA scales on CPU relative to the
  // request (the autoscaling test); the other services 50m. With seven services of 3 pods: 300m + 18 ×
  // 50m = 1,200m at rest (plus the migration Jobs' 5 × 100m before an upgrade). A rolling upgrade
  // of every Deployment at once adds one pod to each (maxSurge 25% of 3): with the gateway scaled
  // out to 4, 5 × 100m + 24 × 50m = 1,700m, which still fits; at 60m each (2,090m with the
  // cluster's own) it would not.
  const resources = (service: string) => ({
    requests: { cpu: service === GATEWAY ? '100m' : '50m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
    limits: { cpu: '1', memory: '320Mi', 'ephemeral-storage': '128Mi' },
  });
  const scaled = (service: string) =>
    profile === 'production-like'
      ? {
          replicaCount: 3,
          // Room for a rolling surge of every service beside a scale-out of the gateway (above).
          // Only the gateway's HPA is under test. The others scale on CPU alone, at 360% of their
          // small request (180m): at the chart's 70% (35m) an idle pod on two loaded cores reaches
          // it, and at 80% of memory (102Mi) so does a Node process at rest, so they would sit at 4
          // pods and the drain, which starts from 3 of each, would wait for a scale-in that never comes.
          autoscaling: {
            enabled: true,
            minReplicas: 3,
            maxReplicas: 4,
            targetCPUUtilizationPercentage: 360,
            targetMemoryUtilizationPercentage: null,
            scaleDownStabilizationSeconds: 60,
          },
          podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
          resources: resources(service),
        }
      : { replicaCount: 1, resources: resources(service) };
  const database = (service: string): object => {
    const db = deps.databases.find((d) => d.database === service);
    if (!db) throw new Error(`no database for ${service}`);
    return { url: `postgres://${db.user}@postgres.${depsNamespace}:5432/${db.database}`, existingSecret: `galion-${service}-db`, passwordKey: 'password' };
  };
  // Pods reach the store through its Service; presigned URLs name the store itself on the node's
  // address, which this machine (a test, a browser beside `npm run cluster`) reaches too.
  const objectStore = (service: string): object => ({
    endpoint: `http://s3.${depsNamespace}:${s3ServicePort}`,
    publicEndpoint: deps.s3.endpoint,
    region: deps.s3.region,
    bucket: `galion-${service}`,
    existingSecret: `galion-${service}-s3`,
  });
  const monitoring = profile === 'production-like';
  return {
    global: {
      publicUrl: `https://${publicHost}`,
      image: { registry: 'localhost', tag: imageTag, pullPolicy: 'Never' },
      redis: { url: `redis://redis.${depsNamespace}:6379`, existingSecret: 'galion-redis', passwordKey: 'password' },
      kafka: { brokers: [`kafka.${depsNamespace}:9092`], topicPartitions: 3 },
      monitoring: {
        // The tests' Prometheus scrapes every 5 s, so that an alert fires within a minute.
        serviceMonitor: { enabled: monitoring, ...(monitoring && { interval: '5s', scrapeTimeout: '4s' }) },
        prometheusRule: { enabled: monitoring },
        dashboards: { enabled: monitoring },
      },
      // The Kafka outage test waits for the outbox alert: 15 s of backlog for 15 s, not 5 min for 10.
      ...(monitoring && { alerts: { outboxBacklog: { maxAgeSeconds: 15, for: '15s', severity: 'warning' } } }),
      networkPolicy: {
        enabled: true,
        ingressController: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'galion-ingress' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
          },
        ],
        // Postgres, Redis and Kafka run on the node: a Service's traffic is judged after it is
        // sent to the endpoint, so the rules name the node's address and the real ports.
        postgres: { to: node, ports: [{ port: deps.ports.postgres, protocol: 'TCP' }] },
        redis: { to: node, ports: [{ port: deps.ports.redis, protocol: 'TCP' }] },
        kafka: { to: node, ports: [{ port: deps.ports.kafka, protocol: 'TCP' }] },
        s3: { to: node, ports: [{ port: deps.ports.s3, protocol: 'TCP' }] },
      },
    },
    // Every service alike, its database and bucket where it has them; then what the gateway and auth add.
    ...Object.fromEntries(
      services.map((service) => [
        service,
        {
          ...scaled(service),
          ...(databaseServices.includes(service) && { postgres: database(service) }),
          ...(objectStoreServices.includes(service) && { s3: objectStore(service) }),
        },
      ]),
    ),
    [GATEWAY]: {
      ...scaled(GATEWAY),
      // One step out and one back in, quickly: the autoscaling test watches both within minutes.
      ...(profile === 'production-like'
        ? {
            // On CPU alone: the test drives CPU, and a memory target would hold the scale-in.
            autoscaling: {
              enabled: true,
              minReplicas: 3,
              maxReplicas: 4,
              targetCPUUtilizationPercentage: 50,
              targetMemoryUtilizationPercentage: null,
              scaleDownStabilizationSeconds: 20,
            },
            // The tests' load comes from one address, this machine: limits for one client would
            // answer most of it with 429 and leave the services behind the gateway idle.
            extraEnv: [
              { name: 'RATE_LIMIT_PER_IP', value: '1000000' },
              { name: 'RATE_LIMIT_PER_USER', value: '1000000' },
            ],
          }
        : {}),
      ingress: { className: cluster.ingressClass, tls: { enabled: true, secretName: 'galion-tls' } },
    },
    auth: { ...scaled('auth'), postgres: database('auth'), bootstrapAdmin: { existingSecret: 'galion-admin' } },
  };
};

export interface BuiltImage {
  service: string;
  ref: string;
  archive: string;
}

/**
 * Builds every service image from the Dockerfile (scripts/cluster/build-images.sh) and imports them
 * into the node. With a tag suffix, a new build of the same sources under `<tag>-<suffix>`.
 */
export const buildAndImportImages = async (cluster: LocalCluster, options: { tagSuffix?: string } = {}): Promise<{ tag: string; images: BuiltImage[] }> => {
  const suffix = options.tagSuffix ? ['--tag-suffix', options.tagSuffix] : [];
  const { stdout } = await runCommand('bash', [join(repoRoot, 'scripts', 'cluster', 'build-images.sh'), 'services', ...suffix], {
    timeoutMs: 40 * 60_000,
  });
  const images = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [service = '', ref = '', archive = ''] = line.split(' ');
      return { service, ref, archive };
    });
  for (const image of images) {
    await runCommand('ctr', ['--address', cluster.containerdAddress, '-n', 'k8s.io', 'images', 'import', image.archive], {
      timeoutMs: 5 * 60_000,
    });
  }
  const tags = new Set(images.map((image) => image.ref.slice(image.ref.lastIndexOf(':') + 1)));
  if (tags.size !== 1) throw new Error(`expected one tag for the service images, got ${[...tags].join(', ')}`);
  return { tag: [...tags][0] ?? '', images };
};

export interface Installed {
  deps: ClusterDependencies;
  ca: TestCa;
  images: BuiltImage[];
  imageTag: string;
  /** The values the release was installed with. */
  values: Record<string, unknown>;
  /** Writes values for an upgrade to a file and returns its path. */
  writeValues(values: Record<string, unknown>, name: string): string;
  helm(args: string[], timeoutMs?: number): Promise<string>;
  installOutput: string;
  /** From `helm install` returning to every Deployment at the HPA's minimum. */
  hpaToMinimumMs: number;
}

export interface InstallOptions {
  profile: ClusterProfile;
  /** The first admin, put in the Secret the chart's bootstrap reads. */
  admin: AdminAccount;
}

/** Everything up to a Ready release. */
export const installGalion = async (cluster: LocalCluster, options: InstallOptions): Promise<Installed> => {
  const helmPath = await helmBin();
  const helmEnv = { ...process.env, KUBECONFIG: cluster.kubeconfig };
  const helm = async (args: string[], timeoutMs = 10 * 60_000): Promise<string> =>
    (await runCommand(helmPath, args, { env: helmEnv, timeoutMs })).stdout;

  const [deps, built] = await Promise.all([
    startClusterDependencies(cluster, [...databaseServices]),
    buildAndImportImages(cluster),
  ]);
  const ca = makeTestCa();
  await cluster.kubectl(['apply', '-f', '-'], { input: manifest(namespaces()) });
  const crds = await clusterCrdDir();
  await cluster.kubectl(['apply', '--server-side', '-f', join(crds, 'monitoring.coreos.com_servicemonitors.yaml'),
    '-f', join(crds, 'monitoring.coreos.com_prometheusrules.yaml')]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  const secrets = [
    ...deps.databases.map((db) => secret(`galion-${db.database}-db`, { password: db.password })),
    secret('galion-admin', { email: options.admin.email, password: options.admin.password }),
    secret('galion-redis', { password: deps.redisPassword }),
    ...objectStoreServices.map((service) =>
      secret(`galion-${service}-s3`, { 'access-key-id': deps.s3.accessKey, 'secret-access-key': deps.s3.secretKey }),
    ),
    secret('galion-tls', { 'tls.crt': readFileSync(join(ca.dir, 'tls.crt'), 'utf8'), 'tls.key': readFileSync(join(ca.dir, 'tls.key'), 'utf8') }, 'kubernetes.io/tls'),
  ];
  await cluster.kubectl(['apply', '-f', '-'], { input: manifest([...dependencyServices(cluster, deps), ...secrets]) });

  await runCommand('bash', [join(repoRoot, 'scripts', 'charts', 'prepare.sh')], { timeoutMs: 5 * 60_000 });
  // A cluster started by hand (cluster.sh up) and used by an earlier run may still hold the release.
  if ((await helm(['list', '-n', namespace, '-q'])).split('\n').includes(release)) {
    await helm(['uninstall', release, '-n', namespace, '--wait']);
  }
  const writeValues = (values: Record<string, unknown>, name: string): string => {
    const file = join(ca.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(values, null, 2));
    return file;
  };
  const values = clusterValues(options.profile, cluster, deps, built.tag);
  const valuesFile = writeValues(values, 'values');
  const installOutput = await helm(
    ['install', release, join(repoRoot, 'charts', 'galion'), '-n', namespace, '-f', valuesFile, '--wait', '--wait-for-jobs', '--timeout', '10m'],
    12 * 60_000,
  );
  // With an HPA the chart leaves the replica count to it (a static count would fight the HPA): a new
  // Deployment starts with one pod, which is all `--wait` waits for, and the HPA brings it to
  // minReplicas at its next sync.
  const hpaStarted = Date.now();
  for (const service of options.profile === 'production-like' ? services : []) {
    await pollFor(
      `the HPA to bring ${service} to 3 Ready pods`,
      async () => {
        const status = JSON.parse(await cluster.kubectl(['-n', namespace, 'get', 'deployment', `${release}-${service}`, '-o', 'jsonpath={.status}'])) as { readyReplicas?: number };
        return status.readyReplicas === 3 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
  }
  const hpaToMinimumMs = Date.now() - hpaStarted;
  return { deps, ca, images: built.images, imageTag: built.tag, values, writeValues, helm, installOutput, hpaToMinimumMs };
};
