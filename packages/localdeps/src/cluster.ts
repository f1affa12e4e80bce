import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startKafka, type KafkaHandle } from './kafka';
import { startPostgres, type PostgresHandle } from './postgres';
import { startRedis, type RedisHandle } from './redis';
import { startS3, type S3Handle } from './s3';

const repoRoot = resolve(__dirname, '..', '..', '..');
const clusterScript = join(repoRoot, 'scripts', 'cluster', 'cluster.sh');

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Runs a command to its end; rejects with its output when it fails. */
export const runCommand = (command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> =>
  new Promise((resolvePromise, reject) => {
    const child = execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd ?? repoRoot,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
          reject(new CommandError(`${command} ${args.join(' ')} failed (${code ?? error.message}):\n${tail}`, code, stdout, stderr));
        } else {
          resolvePromise({ stdout, stderr });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });

/** What `scripts/cluster/cluster.sh env` says of the running cluster. */
export interface LocalClusterInfo {
  nodeIp: string;
  nodeName: string;
  podCidr: string;
  serviceCidr: string;
  kubeconfig: string;
  apiPort: number;
  ingressHttpsPort: number;
  ingressHttpPort: number;
  ingressClass: string;
  externalInterface: string;
  guardTable: string;
  containerdAddress: string;
}

export interface LocalCluster extends LocalClusterInfo {
  /** kubectl against this cluster, as its administrator. */
  kubectl(args: string[], options?: RunOptions): Promise<string>;
  /** Stops the cluster and restores the host (cluster.sh down). */
  stop(): Promise<void>;
}

const toolPath = (script: string, flag: string): Promise<string> =>
  runCommand('bash', [join(repoRoot, 'scripts', ...script.split('/')), flag]).then((r) => r.stdout.trim());

/** Directory of the cluster's binaries (kubectl, crictl...). */
export const clusterBinDir = (): Promise<string> => toolPath('cluster/install-cluster-tools.sh', '--print-bin');
/** Directory of the Prometheus Operator CRDs the cluster tools fetched. */
export const clusterCrdDir = (): Promise<string> => toolPath('cluster/install-cluster-tools.sh', '--print-crds');

const parseEnv = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

const readInfo = async (): Promise<LocalClusterInfo> => {
  const env = parseEnv((await runCommand('bash', [clusterScript, 'env'])).stdout);
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`cluster.sh env does not name ${name}`);
    return value;
  };
  return {
    nodeIp: need('NODE_IP'),
    nodeName: need('NODE_NAME'),
    podCidr: need('POD_CIDR'),
    serviceCidr: need('SERVICE_CIDR'),
    kubeconfig: need('KUBECONFIG'),
    apiPort: Number(need('API_PORT')),
    ingressHttpsPort: Number(need('INGRESS_HTTPS_PORT')),
    ingressHttpPort: Number(need('INGRESS_HTTP_PORT')),
    ingressClass: need('INGRESS_CLASS'),
    externalInterface: need('EXTERNAL_IF'),
    guardTable: need('GUARD_TABLE'),
    containerdAddress: need('CONTAINERD_ADDRESS'),
  };
};

export interface StartClusterOptions {
  /** The cluster is torn down when this process ends (by a watchdog), even if it is killed. */
  ownerPid?: number;
  timeoutMs?: number;
}

/**
 * Starts the local single-node cluster (scripts/cluster/cluster.sh up), or takes the one already
 * running, and returns a handle on it.
 */
export const startLocalCluster = async (options: StartClusterOptions = {}): Promise<LocalCluster> => {
  const args = ['up', ...(options.ownerPid ? ['--owner-pid', String(options.ownerPid)] : [])];
  await runCommand('bash', [clusterScript, ...args], { timeoutMs: options.timeoutMs ?? 15 * 60_000 });
  const info = await readInfo();
  const bin = await clusterBinDir();
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, KUBECONFIG: info.kubeconfig };
  const kubectl = async (kubectlArgs: string[], runOptions: RunOptions = {}): Promise<string> =>
    (await runCommand(join(bin, 'kubectl'), kubectlArgs, { env, ...runOptions })).stdout;
  const stop = async (): Promise<void> => {
    await runCommand('bash', [clusterScript, 'down'], { timeoutMs: 5 * 60_000 });
  };
  return { ...info, kubectl, stop };
};

/** One service's database on the cluster's PostgreSQL: its own database and login role. */
export interface ClusterDatabase {
  database: string;
  user: string;
  password: string;
}

export interface ClusterDependencies {
  postgres: PostgresHandle;
  redis: RedisHandle;
  /** Redis serves clients off loopback only with a password. */
  redisPassword: string;
  kafka: KafkaHandle;
  /**
   * The S3-compatible object store (versitygw) of the services that keep files there, reached by
   * pods and by this machine at the same address; its access key is random for each run.
   */
  s3: S3Handle;
  /** Where pods reach each (the node's address). */
  ports: { postgres: number; redis: number; kafka: number; s3: number };
  databases: ClusterDatabase[];
  stop(): Promise<void>;
}

/**
 * PostgreSQL, Redis, Kafka and an S3 server for the cluster, as the project's usual host processes
 * but on the node's address, so pods reach them through selector-less Services. Each named database
 * gets a login role of its own (galion_<name>), as the chart expects; the services make their
 * buckets themselves.
 */
export const startClusterDependencies = async (cluster: LocalClusterInfo, databaseNames: string[]): Promise<ClusterDependencies> => {
  const redisPassword = randomBytes(18).toString('base64url');
  const [postgres, redis, kafka, s3] = await Promise.all([
    // Pods, and this machine itself (which reaches the node address from the node address).
    startPostgres({ host: cluster.nodeIp, allowFrom: [cluster.podCidr, `${cluster.nodeIp}/32`] }),
    startRedis({ host: cluster.nodeIp, password: redisPassword }),
    startKafka({ host: cluster.nodeIp }),
    startS3({ host: cluster.nodeIp, accessKey: 'galion-cluster', secretKey: randomBytes(18).toString('base64url') }),
  ]);
  const databases = databaseNames.map((name) => ({
    database: name,
    user: `galion_${name}`,
    password: randomBytes(18).toString('base64url'),
  }));
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    for (const db of databases) {
      await client.query(`CREATE ROLE ${client.escapeIdentifier(db.user)} LOGIN PASSWORD ${client.escapeLiteral(db.password)}`);
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(db.database)} OWNER ${client.escapeIdentifier(db.user)}`);
    }
  } finally {
    await client.end();
  }
  const stop = async (): Promise<void> => {
    await Promise.allSettled([postgres.stop(), redis.stop(), kafka.stop(), s3.stop()]);
  };
  const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));
  return {
    postgres,
    redis,
    redisPassword,
    kafka,
    s3,
    ports: { postgres: postgres.port, redis: redis.port, kafka: portOf(kafka.brokers[0] ?? ''), s3: s3.port },
    databases,
    stop,
  };
};

/** The packet counts of the egress guard's drop rules (all zero while nothing tried to leave). */
export const egressGuardCounters = async (cluster: LocalClusterInfo): Promise<{ comment: string; packets: number }[]> => {
  const { stdout } = await runCommand('nft', ['-j', 'list', 'table', 'inet', cluster.guardTable]);
  const items = (JSON.parse(stdout) as { nftables: Record<string, unknown>[] }).nftables;
  return items
    .flatMap((item) => (item.rule ? [item.rule as { comment?: string; expr: Record<string, unknown>[] }] : []))
    .flatMap((rule) => {
      const counter = rule.expr.find((expr) => 'counter' in expr)?.counter as { packets: number } | undefined;
      return counter ? [{ comment: rule.comment ?? '', packets: counter.packets }] : [];
    });
};

/** What the egress guard logged of the packets it dropped (kernel log lines), to say what tried to leave. */
export const egressGuardLog = async (): Promise<string[]> => {
  const { stdout } = await runCommand('dmesg', []);
  return stdout.split('\n').filter((line) => line.includes('galion-egress-guard: '));
};

/** Reads a file of the cluster's state, such as its CA certificate. */
export const readClusterFile = (cluster: LocalClusterInfo, relative: string): string =>
  readFileSync(join(cluster.kubeconfig, '..', relative), 'utf8');

/** Runs one query on a database and returns its rows (for checks on what a cluster's pods stored). */
export const queryRows = async <T extends Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
};

/** Where scripts/cluster/build-images.sh keeps buildah's store. */
const imagesCacheDir = (): string => join(process.env.GALION_CACHE_DIR || join(homedir(), '.cache', 'galion'), 'images');

const commandOutput = async (command: string, args: string[]): Promise<string> => {
  try {
    return (await runCommand(command, args)).stdout;
  } catch (error) {
    return error instanceof CommandError ? `(${command} failed: ${error.stderr.trim()})` : String(error);
  }
};

/**
 * What the cluster may change on the host, in a comparable form: firewall rules and tables, ipsets,
 * links, network namespaces, mounts, the sysctls it sets, the kubelet's log links. Taken before
 * `up` and after `down`, the two must be equal.
 */
export const hostSnapshot = async (): Promise<Record<string, string[]>> => {
  const lines = (text: string): string[] =>
    text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  // Counters and the dump's timestamp change by themselves.
  const rules = (text: string): string[] => lines(text).filter((line) => !line.startsWith('#')).map((line) => line.replace(/\[\d+:\d+\]/g, ''));
  const sysctls = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'kernel.panic', 'kernel.panic_on_oops', 'vm.overcommit_memory'];
  return {
    iptables: rules(await commandOutput('iptables-save', [])),
    ip6tables: rules(await commandOutput('ip6tables-save', [])),
    nftTables: lines(await commandOutput('nft', ['list', 'tables'])),
    ipsets: lines(await commandOutput('ipset', ['list', '-n'])),
    links: lines(await commandOutput('ip', ['-o', 'link', 'show'])).map((line) => line.split(':')[1]?.trim().split('@')[0] ?? line),
    netns: lines(await commandOutput('ip', ['netns', 'list'])),
    // Image builds (buildah's store in the Galion cache) mount and unmount layers of their own.
    mounts: lines(readFileSync('/proc/mounts', 'utf8'))
      .map((line) => line.split(' ')[1] ?? line)
      .filter((point) => !point.startsWith(`${imagesCacheDir()}/`)),
    sysctls: lines(await commandOutput('sysctl', sysctls)),
    containerLogs: lines(await commandOutput('ls', ['-A', '/var/log/containers'])),
  };
};
