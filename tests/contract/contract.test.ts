/**
 * The contract run: schemathesis against the whole platform in distributed mode (every service
 * its own process, real PostgreSQL, Redis and Kafka), through the gateway, over every operation
 * of the merged OpenAPI document, with every check and all four phases (examples, coverage,
 * fuzzing, stateful), once as a user and once as an admin. Every service runs with
 * API_CHECK_RESPONSES on, so an answer its route does not declare is a 500 the run reports.
 * A new operation is covered by being in the document.
 *
 * Installed by scripts/install-schemathesis.sh (npm test runs it). To replay a failure, run the
 * command this test prints with the seed it printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPlatform, type Platform } from '@galion/launcher';

const ROOT = path.resolve(__dirname, '..', '..');
const HERE = __dirname;
const admin = { email: 'contract-bootstrap@example.com', password: 'contract bootstrap passphrase' };
// Not any example of the document, so a fuzzed password change cannot guess it.
const runPassword = 'the contract run passphrase 42';
// Reproducible by default; GALION_CONTRACT_SEED=random explores new cases.
const seed = process.env.GALION_CONTRACT_SEED ?? '20261201';
const maxExamples = process.env.GALION_CONTRACT_MAX_EXAMPLES ?? '30';

const schemathesisBin = spawnSync('bash', [path.join(ROOT, 'scripts/install-schemathesis.sh'), '--print-bin'], {
  encoding: 'utf8',
}).stdout.trim();
const pythonOf = (bin: string) => path.join(path.dirname(bin), 'python');
// Python 3.11's compiler is not thread-safe under hypothesis (see install-schemathesis.sh).
const workers = spawnSync(pythonOf(schemathesisBin), ['-c', 'import sys; print(2 if sys.version_info >= (3, 12, 2) else 1)'], {
  encoding: 'utf8',
}).stdout.trim();

interface RunResult {
  code: number | null;
  output: string;
  command: string;
}

const runSchemathesis = (api: string, role: 'user' | 'admin'): Promise<RunResult> => {
  const args = [
    '--config-file',
    path.join(HERE, 'schemathesis.toml'),
    'run',
    `${api}/api/v1/openapi.json`,
    '--checks',
    'all',
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--max-examples',
    maxExamples,
    '--workers',
    workers,
    '--generation-database',
    'none',
    '--no-color',
    ...(seed === 'random' ? [] : ['--seed', seed]),
  ];
  const env = {
    ...process.env,
    SCHEMATHESIS_HOOKS: 'galion_auth',
    PYTHONPATH: HERE,
    GALION_CONTRACT_API: api,
    GALION_CONTRACT_ROLE: role,
    GALION_CONTRACT_PASSWORD: runPassword,
    GALION_CONTRACT_ADMIN_EMAIL: admin.email,
    GALION_CONTRACT_ADMIN_PASSWORD: admin.password,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesisBin, args, { env, cwd: mkdtempSync(path.join(tmpdir(), `galion-contract-${role}-`)) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      resolve({
        code,
        output,
        command: `GALION_CONTRACT_ROLE=${role} SCHEMATHESIS_HOOKS=galion_auth PYTHONPATH=${HERE} ${schemathesisBin} ${args.join(' ')}`,
      }),
    );
  });
};

/** Operations in the merged document, as schemathesis counts them. */
const operationCount = async (api: string): Promise<number> => {
  const document = (await (await fetch(`${api}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
  return Object.values(document.paths).reduce((count, item) => count + Object.keys(item).filter((key) => methods.has(key)).length, 0);
};

const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-contract-'));
let platform: Platform;
let api: string;
let runs: Record<'user' | 'admin', Promise<RunResult>>;

beforeAll(async () => {
  const generous = '1000000';
  platform = await startPlatform({
    dataDir,
    admin,
    output: 'ignore',
    env: {
      LOG_LEVEL: 'warn',
      API_CHECK_RESPONSES: 'true',
      OUTBOX_POLL_INTERVAL_MS: '50',
      // Every case comes from one address and two accounts: the limits are raised (not removed)
      // for this run only, so the code that enforces them still runs.
      RATE_LIMIT_PER_IP: generous,
      RATE_LIMIT_PER_USER: generous,
      RATE_LIMIT_AUTH_PER_IP: generous,
      AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000',
      AUTH_LOGIN_MAX_FAILURES_PER_IP: '100000',
      AUTH_RECOVERY_MAX_REQUESTS_PER_IP_PER_HOUR: '100000',
      AUTH_RECOVERY_MAX_MAILS_PER_HOUR: '1000',
    },
  });
  api = platform.gatewayUrl.replace('localhost', '127.0.0.1');
  // Side by side: the two runs use different accounts and share only the platform.
  runs = { user: runSchemathesis(api, 'user'), admin: runSchemathesis(api, 'admin') };
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(Object.values(runs ?? {}));
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

// The whole report goes to a file: a failing case's body can be megabytes and hide the rest.
const explain = (run: RunResult, role: string) => {
  const report = path.join(mkdtempSync(path.join(tmpdir(), `galion-contract-report-${role}-`)), 'schemathesis.txt');
  writeFileSync(report, run.output);
  const failures = run.output.replace(/(.{400})[^\n]{400,}/g, '$1… (cut)');
  return `${failures.slice(-20_000)}\n\nWhole report: ${report}\nReproduce with:\n${run.command}`;
};

describe.each(['user', 'admin'] as const)('schemathesis over the merged document, authenticated as %s', (role) => {
  it('when every operation is fuzzed with every check, then none fails and every operation was tested', async () => {
    const run = await runs[role];
    const operations = await operationCount(api);

    expect(operations).toBeGreaterThanOrEqual(20);
    if (run.code !== 0) throw new Error(`schemathesis exited ${run.code}:\n${explain(run, role)}`);
    const summary = /=+ ([^=\n]+) in [\d.]+s =+/.exec(run.output)?.[1] ?? '';

    expect(summary).not.toMatch(/failure|error/);
    expect(run.output).toMatch(new RegExp(`Tested: ${operations}\\b`));
    for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) expect(run.output).toMatch(new RegExp(`✅ ${phase}`));
  }, 600_000);
});
