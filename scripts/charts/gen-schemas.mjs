#!/usr/bin/env node
// Writes values.schema.json of every chart from the one description below, so the service charts
// (one per service of services.json) and the umbrella agree. `node scripts/charts/gen-schemas.mjs`
// writes them; `--check` exits 1 when a committed schema differs (the chart tests run it).
import { join, relative } from 'node:path';
import { ROOT, services } from '../services.mjs';
import { writeOrCheck } from './generated-files.mjs';

const CHARTS = join(ROOT, 'charts');
/** A service's chart folder under charts/ (services.json). */
const chartDir = (service) => relative(CHARTS, join(ROOT, service.chart));

const str = (extra = {}) => ({ type: 'string', ...extra });
const bool = { type: 'boolean' };
const int = (minimum, maximum) => ({
  type: 'integer',
  ...(minimum !== undefined && { minimum }),
  ...(maximum !== undefined && { maximum }),
});
const obj = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const map = (values = str()) => ({ type: 'object', additionalProperties: values });
const arr = (items = {}, extra = {}) => ({ type: 'array', items, ...extra });
const nullable = (schema) => ({ anyOf: [schema, { type: 'null' }] });
const intOrString = { anyOf: [int(0), str({ pattern: '^[0-9]+%?$' })] };

const duration = str({ pattern: '^(0|([0-9]+(ms|s|m|h|d|w|y))+)$', description: 'A Prometheus duration, e.g. 30s, 5m, 1h' });
const quantity = { anyOf: [{ type: 'number', minimum: 0 }, str({ pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$' })] };
const resources = obj({
  requests: obj({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }),
  limits: obj({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }),
});
const logLevel = { enum: ['', 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] };
const severity = { enum: ['critical', 'warning', 'info'] };
const dnsName = str({ pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$', maxLength: 63 });
const envName = '^[A-Z_][A-Z0-9_]*$';
const labels = { type: 'object', additionalProperties: str() };
const peers = arr({ type: 'object' }, { description: 'NetworkPolicyPeer objects (namespaceSelector, podSelector, ipBlock)' });
const depRule = obj({
  to: peers,
  ports: arr(obj({ port: { anyOf: [int(1, 65535), str()] }, protocol: { enum: ['TCP', 'UDP', 'SCTP'] } }, { required: ['port'] }), {
    minItems: 1,
  }),
});
const probe = obj({
  initialDelaySeconds: int(0),
  periodSeconds: int(1),
  timeoutSeconds: int(1),
  failureThreshold: int(1),
  successThreshold: int(1),
});
const secretRef = { existingSecret: str(), passwordKey: str({ minLength: 1 }), password: str() };

const globalSchema = obj({
  publicUrl: str({
    pattern: '^https?://[^/\\s]+(/[^\\s]*)?$',
    description: 'Where clients reach the platform; the token issuer is <publicUrl>/api/v1/auth',
  }),
  jwtAudience: str({ minLength: 1 }),
  accessTokenTtlSeconds: { ...int(30, 86400), description: 'Access-token lifetime: auth signs for it, users keeps revocations as long' },
  logLevel,
  image: obj({ registry: str(), tag: str(), pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }),
  imagePullSecrets: arr(str()),
  commonLabels: labels,
  peerPort: int(1, 65535),
  peers: map(str({ pattern: '^https?://' })),
  otel: obj({
    endpoint: str({ pattern: '^(https?://.+)?$' }),
    samplerRatio: { type: 'number', minimum: 0, maximum: 1 },
    extraResourceAttributes: str({ pattern: '^([^=,\\s]+=[^,\\s]*(,[^=,\\s]+=[^,\\s]*)*)?$' }),
  }),
  redis: obj({ url: str({ pattern: '^rediss?://' }), ...secretRef }),
  kafka: obj({
    brokers: arr(str({ pattern: '^[^\\s:,]+:[0-9]+$' }), { minItems: 1 }),
    ssl: bool,
    topicPartitions: int(1, 1000),
    sasl: obj({ mechanism: { enum: ['', 'plain', 'scram-sha-256', 'scram-sha-512'] }, username: str(), ...secretRef }),
  }),
  monitoring: obj({
    labels,
    serviceMonitor: obj({ enabled: bool, interval: duration, scrapeTimeout: duration }),
    prometheusRule: obj({ enabled: bool }),
    dashboards: obj({ enabled: bool, namespace: dnsName, labels, annotations: labels }),
  }),
  alerts: obj({
    runbookBaseUrl: str({ pattern: '^https?://' }),
    extraLabels: labels,
    errorRatio: obj(
      { threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, window: duration, for: duration, severity },
      { required: ['threshold', 'for', 'severity'] },
    ),
    latencyP95: obj(
      { thresholdSeconds: { type: 'number', exclusiveMinimum: 0 }, window: duration, for: duration, severity },
      { required: ['thresholdSeconds', 'for', 'severity'] },
    ),
    targetDown: obj({ for: duration, severity }, { required: ['for', 'severity'] }),
    podRestarts: obj(
      { threshold: int(1), window: duration, for: duration, severity },
      { required: ['threshold', 'window', 'for', 'severity'] },
    ),
    dbPool: obj(
      { threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, for: duration, severity },
      { required: ['threshold', 'for', 'severity'] },
    ),
    outboxBacklog: obj(
      { maxAgeSeconds: { type: 'number', exclusiveMinimum: 0 }, for: duration, severity },
      { required: ['maxAgeSeconds', 'for', 'severity'] },
    ),
    consumerLag: obj(
      { threshold: { type: 'number', minimum: 0 }, window: duration, for: duration, severity },
      { required: ['threshold', 'window', 'for', 'severity'] },
    ),
    dlq: obj({ window: duration, for: duration, severity }, { required: ['window', 'for', 'severity'] }),
    circuitBreaker: obj({ for: duration, severity }, { required: ['for', 'severity'] }),
    sweepStale: obj({ missedRuns: int(1, 1000), for: duration, severity }, { required: ['missedRuns', 'for', 'severity'] }),
    objectDeleteFailures: obj({ window: duration, for: duration, severity }, { required: ['window', 'for', 'severity'] }),
    uploadsUnavailable: obj(
      { threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, window: duration, for: duration, severity },
      { required: ['threshold', 'window', 'for', 'severity'] },
    ),
  }),
  networkPolicy: obj({
    enabled: bool,
    ingressController: peers,
    prometheus: peers,
    dns: depRule,
    postgres: depRule,
    redis: depRule,
    kafka: depRule,
    s3: depRule,
    otlp: depRule,
  }),
});

// What a NetworkPolicy may name: the services, and the gateway chart's `helm test` pods.
const serviceNames = [...services.map((service) => service.name), 'gateway-test'];
const commonService = {
  global: globalSchema,
  'galion-lib': { type: 'object' },
  enabled: bool,
  nameOverride: dnsName,
  fullnameOverride: dnsName,
  commonLabels: labels,
  replicaCount: int(0, 100),
  revisionHistoryLimit: int(0, 50),
  rollingUpdate: obj({ maxUnavailable: intOrString, maxSurge: intOrString }),
  image: obj(
    {
      registry: str(),
      repository: str({ minLength: 1 }),
      tag: str({ pattern: '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$' }),
      digest: str({ pattern: '^(sha256:[a-f0-9]{64})?$' }),
      pullPolicy: { enum: ['', 'Always', 'IfNotPresent', 'Never'] },
    },
    { required: ['repository'] },
  ),
  imagePullSecrets: arr(str()),
  serviceAccount: obj({ create: bool, name: dnsName, annotations: labels, automountToken: bool }),
  podAnnotations: labels,
  podLabels: labels,
  priorityClassName: str(),
  nodeSelector: labels,
  tolerations: arr({ type: 'object' }),
  affinity: { type: 'object' },
  podSecurityContext: {
    type: 'object',
    description: 'Pod securityContext; the pods always run as a non-root user',
    properties: { runAsNonRoot: { const: true }, runAsUser: int(1) },
    required: ['runAsNonRoot'],
  },
  securityContext: {
    type: 'object',
    description: 'Container securityContext; privilege escalation and privileged mode are never allowed',
    properties: { allowPrivilegeEscalation: { const: false }, privileged: { const: false }, runAsNonRoot: { const: true } },
    required: ['allowPrivilegeEscalation'],
  },
  tmpSizeLimit: quantity,
  resources,
  service: obj({
    type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
    port: int(1, 65535),
    metricsPort: int(1, 65535),
    annotations: labels,
  }),
  probes: obj({ startup: probe, liveness: probe, readiness: probe }),
  shutdown: obj({
    preStopSleepSeconds: int(0, 120),
    drainDelaySeconds: int(0, 120),
    timeoutSeconds: int(1, 600),
    terminationGracePeriodSeconds: nullable(int(1, 3600)),
  }),
  autoscaling: obj({
    enabled: bool,
    minReplicas: int(1, 1000),
    maxReplicas: int(1, 1000),
    targetCPUUtilizationPercentage: nullable(int(1, 1000)),
    targetMemoryUtilizationPercentage: nullable(int(1, 1000)),
    scaleUpStabilizationSeconds: int(0, 3600),
    scaleDownStabilizationSeconds: int(0, 3600),
  }),
  podDisruptionBudget: obj({ enabled: bool, minAvailable: nullable(intOrString), maxUnavailable: nullable(intOrString) }),
  topologySpread: obj({
    enabled: bool,
    maxSkew: int(1),
    nodeWhenUnsatisfiable: { enum: ['ScheduleAnyway', 'DoNotSchedule'] },
    zoneWhenUnsatisfiable: { enum: ['ScheduleAnyway', 'DoNotSchedule'] },
  }),
  logLevel,
  http: obj({
    corsOrigins: arr(str({ pattern: '^(\\*|https?://[^,\\s]+)$' })),
    bodyLimit: str({ pattern: '^[0-9]+(b|kb|mb)$' }),
    trustProxy: int(0, 10),
  }),
  postgres: obj({
    enabled: bool,
    url: str({ pattern: '^(postgres(ql)?://[^\\s]+)?$', description: 'Without the password (it comes from existingSecret or password)' }),
    ...secretRef,
    poolMax: int(1, 200),
    ssl: bool,
  }),
  redis: obj({ enabled: bool }),
  kafka: obj({ enabled: bool, clientId: str() }),
  s3: obj({ enabled: bool }),
  tokenVerification: obj({ enabled: bool }),
  migrations: obj({ enabled: bool, backoffLimit: int(0, 10), activeDeadlineSeconds: int(30), ttlSecondsAfterFinished: int(0), resources }),
  env: { type: 'object', propertyNames: { pattern: envName }, additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  extraEnv: arr({ type: 'object', required: ['name'], properties: { name: str({ pattern: envName }) } }),
  secretEnv: arr(
    obj(
      {
        name: str({ pattern: envName }),
        from: str({ minLength: 1 }),
        keyField: str({ minLength: 1 }),
        optional: bool,
        // Only when this field of the block is set (e.g. existingSecret for an optional password),
        // or one of these fields.
        ifSet: { anyOf: [str({ minLength: 1 }), arr(str({ minLength: 1 }), { minItems: 1 })] },
      },
      { required: ['name', 'from', 'keyField'] },
    ),
  ),
  secretFiles: arr(
    obj(
      {
        name: dnsName,
        from: str({ minLength: 1 }),
        keyField: str({ minLength: 1 }),
        mountPath: str({ pattern: '^/' }),
        fileName: str({ minLength: 1 }),
      },
      { required: ['name', 'from', 'keyField', 'mountPath', 'fileName'] },
    ),
  ),
  metrics: obj({
    ruleSets: arr(
      { enum: ['http', 'availability', 'dbPool', 'outbox', 'consumer', 'circuitBreaker', 'objectStore'] },
      { uniqueItems: true },
    ),
    dashboard: nullable(obj({ file: str({ pattern: '\\.json$' }), name: dnsName }, { required: ['file', 'name'] })),
  }),
  networkPolicy: obj({
    fromIngressController: bool,
    allowFrom: arr({ enum: serviceNames }, { uniqueItems: true }),
    allowTo: arr({ enum: serviceNames }, { uniqueItems: true }),
    extraIngress: arr({ type: 'object' }),
    extraEgress: arr({ type: 'object' }),
  }),
};

const specific = {
  gateway: {
    ingress: obj({
      enabled: bool,
      className: str(),
      host: str({ pattern: '^([a-z0-9*]([-a-z0-9.]*[a-z0-9])?)?$' }),
      path: str({ pattern: '^/' }),
      pathType: { enum: ['Prefix', 'Exact', 'ImplementationSpecific'] },
      annotations: labels,
      tls: obj({ enabled: bool, secretName: dnsName }),
      certManager: obj({ clusterIssuer: str(), issuer: str() }),
    }),
    httpRoute: obj({
      enabled: bool,
      parentRefs: arr(obj({ name: str({ minLength: 1 }), namespace: str(), sectionName: str() }, { required: ['name'] }), { minItems: 1 }),
      hostnames: arr(str()),
      annotations: labels,
    }),
    tests: obj({ enabled: bool, resources }),
  },
  auth: {
    jwtKeys: obj({ existingSecret: str(), existingSecretKey: str({ minLength: 1 }), keys: str(), activeKid: str() }),
    mail: obj({
      from: str({ pattern: '^([^<>]*<[^\\s@<>]+@[^\\s@<>]+>|[^\\s@<>]+@[^\\s@<>]+)?$', description: 'The From of the mails: an address or "Name <address>"' }),
      webhookUrl: str({ pattern: '^(https?://\\S+)?$' }),
    }),
    smtp: obj({
      host: str(),
      port: int(1, 65535),
      tls: { enum: ['starttls', 'tls', 'none'] },
      user: str(),
      existingSecret: str(),
      passwordKey: str({ minLength: 1 }),
    }),
    bootstrapAdmin: obj({
      enabled: bool,
      existingSecret: str(),
      emailKey: str({ minLength: 1 }),
      passwordKey: str({ minLength: 1 }),
      email: str({ pattern: '^[^@\\s]+@[^@\\s]+$' }),
    }),
  },
  users: {},
  analytics: {},
  posts: {},
  feed: {},
  media: {
    s3: obj({
      enabled: bool,
      endpoint: str({ pattern: '^(https?://\\S+)?$', description: 'The store as the pods reach it; empty: AWS S3 of the region' }),
      publicEndpoint: str({
        pattern: '^(https?://\\S+)?$',
        description: 'The store as clients reach it (presigned URLs); empty: endpoint',
      }),
      region: str({ minLength: 1 }),
      bucket: str({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', description: 'An S3 bucket name' }),
      existingSecret: str(),
      accessKeyIdKey: str({ minLength: 1 }),
      secretAccessKeyKey: str({ minLength: 1 }),
      accessKeyId: str(),
      secretAccessKey: str(),
    }),
  },
};

const serviceSchema = (service) => ({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: `Galion ${service} chart values`,
  ...obj({ ...commonService, ...specific[service] }),
});

const umbrella = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Galion platform chart values',
  ...obj({
    global: globalSchema,
    'galion-lib': { type: 'object' },
    // Each service chart validates its own values with its schema; here only the switch.
    ...Object.fromEntries(services.map(({ name }) => [name, { type: 'object', properties: { enabled: bool } }])),
    dashboards: obj({ overview: bool, eventPipeline: bool }),
  }),
};

const library = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'galion-lib (library chart) values',
  type: 'object',
  properties: { exports: { type: 'object', properties: { 'service-defaults': { type: 'object' } } } },
};

const files = {
  'galion-lib/values.schema.json': library,
  'galion/values.schema.json': umbrella,
  ...Object.fromEntries(services.map((service) => [`${chartDir(service)}/values.schema.json`, serviceSchema(service.name)])),
};

writeOrCheck(CHARTS, files, 'scripts/charts/gen-schemas.mjs');
