export { freePort } from './ports';
export { stopWithThisProcess } from './processes';
export { startPostgres, type PostgresHandle, type PostgresOptions } from './postgres';
export { redisAvailable, startRedis, type RedisHandle, type RedisOptions } from './redis';
export { startKafka, type KafkaHandle, type KafkaOptions } from './kafka';
export { mailpitAvailable, mailpitClient, startMailpit, type MailpitHandle, type MailpitOptions, type ReceivedMail } from './mailpit';
export { s3Available, startS3, type S3Handle, type S3Options } from './s3';
export { eventually, pollFor, startTestServer, testDatabase, testEnv, testKafkaBrokers, testRedis, type PollOptions, type TestDatabase } from './testing';
export {
  jaegerBinary,
  startAlertmanager,
  startJaeger,
  serviceMonitorScrapeConfigs,
  startPrometheus,
  type AlertmanagerHandle,
  type AlertmanagerOptions,
  type JaegerHandle,
  type JaegerOptions,
  type PromAlert,
  type PrometheusHandle,
  type PrometheusOptions,
  type PromSample,
  type PromTarget,
  type ScrapeTarget,
  type ServiceMonitor,
} from './observability';
export {
  clusterBinDir,
  clusterCrdDir,
  CommandError,
  egressGuardCounters,
  egressGuardLog,
  hostSnapshot,
  queryRows,
  readClusterFile,
  runCommand,
  startClusterDependencies,
  startLocalCluster,
  type ClusterDatabase,
  type ClusterDependencies,
  type CommandResult,
  type LocalCluster,
  type LocalClusterInfo,
  type RunOptions,
  type StartClusterOptions,
} from './cluster';
