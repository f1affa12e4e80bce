import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { makeRunDir, runToCompletion, startServerProcess, type ServerProcess } from './processes';

export interface KafkaOptions {
  /** Partitions of topics created without an explicit count. Default 3. */
  partitions?: number;
  /** Address the broker listens on and advertises, 127.0.0.1 by default. */
  host?: string;
}

export interface KafkaHandle {
  /** Bootstrap addresses, `<host>:<port>`. */
  brokers: string[];
  /** SIGTERM, then SIGKILL when the broker has not exited after 20 s. */
  stop(): Promise<void>;
  /** Starts again after `stop()` on the same ports with the same data (for outage tests). */
  start(): Promise<void>;
  /** Freezes the broker (SIGSTOP): connections stay open, requests get no answer, as with a hung broker. */
  freeze(): void;
  /** Lets a frozen broker go on (SIGCONT). */
  thaw(): void;
}

// The pom that scripts/install-deps.sh resolves holds the version; this file sits in src/ or dist/.
const kafkaPom = join(__dirname, '..', 'kafka', 'pom.xml');

const kafkaVersion = (): string => {
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(kafkaPom, 'utf8'))?.[1];
  if (!version) throw new Error(`no <kafka.version> in ${kafkaPom}`);
  return version;
};

/** The broker's jars, fetched by scripts/install-deps.sh into the Galion cache. */
const kafkaLibDir = (): string => {
  const cacheDir = process.env.GALION_CACHE_DIR || join(homedir(), '.cache', 'galion');
  const versionDir = join(cacheDir, `kafka-${kafkaVersion()}`);
  if (!existsSync(join(versionDir, 'lib.complete'))) {
    throw new Error(`the Kafka broker jars are missing from ${join(versionDir, 'lib')}: run scripts/install-deps.sh`);
  }
  return join(versionDir, 'lib');
};

const serverProperties = (host: string, brokerPort: number, controllerPort: number, dataDir: string, partitions: number): string =>
  [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${partitions}`,
    'auto.create.topics.enable=false',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Fewer internal partitions than the default 50: the first consumer group comes up seconds sooner.
    'offsets.topic.num.partitions=5',
    'transaction.state.log.num.partitions=5',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');

// Kafka logs through log4j 1.x (reload4j) to stdout, which goes to the log file next to the data.
const log4jProperties = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  'log4j.logger.org.apache.kafka.controller=WARN',
  '',
].join('\n');

/** Kafka's cluster ids are 16 random bytes in URL-safe base64; one may start with "-", hence `--cluster-id=`. */
const newClusterId = (): string => randomBytes(16).toString('base64url');

/**
 * Starts a real Apache Kafka broker (KRaft, single node acting as broker and controller) on 127.0.0.1
 * (or `options.host`),
 * with a small heap: the machine also runs PostgreSQL, Redis and the services. Its log is `kafka.log`
 * in a temp dir that is removed when the Node process ends.
 */
export const startKafka = async (options: KafkaOptions = {}): Promise<KafkaHandle> => {
  const libDir = kafkaLibDir();
  const [brokerPort, controllerPort] = [await freePort(), await freePort()];
  const host = options.host ?? '127.0.0.1';
  const runDir = makeRunDir('galion-kafka-');
  const dataDir = join(runDir, 'data');
  const logFile = join(runDir, 'kafka.log');
  const propertiesFile = join(runDir, 'server.properties');
  const log4jFile = join(runDir, 'log4j.properties');
  writeFileSync(propertiesFile, serverProperties(host, brokerPort, controllerPort, dataDir, options.partitions ?? 3));
  writeFileSync(log4jFile, log4jProperties);

  const java = (mainClass: string, args: string[], heap: string[]): string[] => [
    ...heap,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4jFile}`,
    '-cp',
    join(libDir, '*'),
    mainClass,
    ...args,
  ];
  const javaSpec = { command: 'java', logFile, cwd: runDir, installHint: 'run scripts/install-deps.sh to install Java' };

  await runToCompletion({
    ...javaSpec,
    name: 'Kafka storage format',
    args: java('kafka.tools.StorageTool', ['format', `--cluster-id=${newClusterId()}`, '-c', propertiesFile], ['-Xmx256m']),
  });

  let broker: ServerProcess | undefined;
  const start = async (): Promise<void> => {
    if (broker?.isRunning()) return;
    broker = await startServerProcess({
      ...javaSpec,
      name: 'Kafka',
      args: java('kafka.Kafka', [propertiesFile], ['-Xmx512m', '-Xms256m']),
      readyText: 'Kafka Server started',
      timeoutMs: 90_000,
      stopSignal: 'SIGTERM',
      runDir,
    });
  };
  const stop = async (): Promise<void> => {
    await broker?.stop();
    broker = undefined;
  };

  await start();
  return { brokers: [`${host}:${brokerPort}`], stop, start, freeze: () => broker?.freeze(), thaw: () => broker?.thaw() };
};
