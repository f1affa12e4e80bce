import { availableParallelism } from 'node:os';
import { kafkaEnv, outboxEnv, readKafkaConfig, readOutboxConfig, type KafkaConfig, type OutboxConfig } from '@galion/events';
import {
  commonEnv,
  databaseEnv,
  env,
  loadConfig,
  portEnv,
  readCommonConfig,
  readDatabaseConfig,
  readRedisUrl,
  redisEnv,
  z,
  type CommonConfig,
  type DatabaseConfig,
} from '@galion/kit';
import { accessTokenTtlEnv, readTokenCacheConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';
import type { AccountViewSettings } from './domain/account-views.js';
import type { HashingLimits } from './domain/hashing-queue.js';
import type { SmtpSettings } from './domain/mailer.js';

/** libuv's pool: what UV_THREADPOOL_SIZE says, else Node's default. */
const threadpoolSize = (value: { UV_THREADPOOL_SIZE?: number | undefined }): number => value.UV_THREADPOOL_SIZE ?? 4;

/** Every setting of the auth service, read from the environment (README: Configuration). */
export const authEnvSchema = z
  .object({
    ...commonEnv,
    ...kafkaEnv,
    ...outboxEnv,
    PORT: portEnv(8081),
    ...databaseEnv,
    ...redisEnv,
    // The verifiers' own schemas, so what auth issues and what they expect default alike.
    PUBLIC_BASE_URL: verifierEnv.PUBLIC_BASE_URL.describe('public URL of the platform; the issuer is `<PUBLIC_BASE_URL>/api/v1/auth`'),
    JWT_AUDIENCE: verifierEnv.JWT_AUDIENCE.describe('`aud` of access tokens'),
    // Auth verifies the tokens it issued on its own bearer routes (/me, logout, password) as every service does.
    TOKEN_CACHE_MAX_ENTRIES: verifierEnv.TOKEN_CACHE_MAX_ENTRIES,
    TOKEN_CACHE_MAX_AGE_SECONDS: verifierEnv.TOKEN_CACHE_MAX_AGE_SECONDS,
    AUTH_JWT_KEYS_FILE: env
      .string()
      .optional()
      .describe('file with the signing keys: a JWKS with private keys, or PEM private keys (Ed25519 or P-256)'),
    AUTH_JWT_KEYS: env.string().optional().describe('the signing keys inline, as in `AUTH_JWT_KEYS_FILE`'),
    AUTH_JWT_ACTIVE_KID: env.string().optional().meta({
      description: 'which key signs; all configured keys verify (rotate by adding a key, then switching)',
      unset: 'the first key',
    }),
    AUTH_GENERATE_SIGNING_KEY: env
      .bool()
      .default(false)
      .describe('with no key configured, make a throwaway one (tokens die with the process)'),
    AUTH_ACCESS_TOKEN_TTL_SECONDS: accessTokenTtlEnv.describe("access-token lifetime (users' `ACCESS_TOKEN_TTL_SECONDS` must be the same)"),
    AUTH_REFRESH_TOKEN_TTL_SECONDS: env.int(60, 31_536_000).default(2_592_000).describe('refresh-token lifetime'),
    AUTH_REFRESH_REUSE_GRACE_SECONDS: env.int(0, 300).default(10).describe('how long a rotated refresh token still returns its successor'),
    AUTH_ARGON2_MEMORY_KIB: env
      .int(8_192, 4_194_304)
      .default(19_456)
      .describe(
        "argon2id memory cost in KiB; the three costs default to OWASP's minimum, and raising one rehashes a password at its next login",
      ),
    AUTH_ARGON2_TIME_COST: env.int(2, 20).default(2).describe('argon2id iterations'),
    AUTH_ARGON2_PARALLELISM: env.int(1, 16).default(1).describe('argon2id lanes'),
    AUTH_ARGON2_CONCURRENCY: env.int(1, 1_024).optional().meta({
      description:
        'passwords hashed or checked at once (logins, registrations, password changes and resets); each takes a thread of the libuv pool and a core while it runs, so more than the cores only adds waiting. Must be below `UV_THREADPOOL_SIZE`',
      unset: 'the cores the process may use, at most `UV_THREADPOOL_SIZE` − 1',
    }),
    AUTH_ARGON2_QUEUE_MAX: env
      .int(0, 100_000)
      .default(32)
      .describe(
        'hashes waiting for their turn at most; past it the request is answered `503 overloaded` with `Retry-After` at once instead of waiting (counted in `auth_password_hashes_refused_total`). At the default cost a core hashes about 25 a second, so 32 waiting is about half a second of waiting on two cores',
      ),
    UV_THREADPOOL_SIZE: env.int(1, 1_024).optional().meta({
      description:
        "threads of libuv's pool, where argon2 runs beside file, DNS and other crypto work; read by Node at its first use of the pool, so set it in the environment of the process",
      unset: "auth's main sets it to the cores + 4 (Node's own default is 4)",
    }),
    AUTH_PASSWORD_MIN_LENGTH: env.int(8, 128).default(8).describe('shortest accepted password'),
    AUTH_ACCOUNT_CACHE_MAX_ENTRIES: env
      .int(0, 10_000_000)
      .default(10_000)
      .describe(
        'accounts GET /me answers from memory once nothing it shows can change (active, address verified), so the read costs no database round trip; the denylist is still asked on every request (`0`: always read the database)',
      ),
    AUTH_ACCOUNT_CACHE_TTL_SECONDS: env.int(1, 3_600).default(60).describe('longest an account is answered from memory'),
    AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: env.int(1, 1_000).default(5).describe('failed logins per (account, IP) before waiting starts'),
    AUTH_LOGIN_MAX_FAILURES_PER_IP: env.int(1, 100_000).default(50).describe('failed logins per IP before waiting starts'),
    AUTH_LOGIN_FAILURE_WINDOW_SECONDS: env.int(1, 86_400).default(900).describe('how long failures are remembered'),
    AUTH_LOGIN_BACKOFF_BASE_SECONDS: env
      .int(1, 3_600)
      .default(30)
      .describe('first wait once a limit is passed, doubled per further failure'),
    AUTH_LOGIN_BACKOFF_MAX_SECONDS: env.int(1, 86_400).default(900).describe('longest wait'),
    AUTH_CONSUMER_GROUP: env.string().default('auth').describe('Kafka consumer group'),
    AUTH_MAIL_WEBHOOK_URL: env.url(['http', 'https']).optional().meta({
      description: 'your mail service; receives `{to, subject, text, purpose, link}` as JSON',
      unset: 'none (links go to the log)',
    }),
    AUTH_SMTP_HOST: env.string().optional().describe('send mail over SMTP to this relay (not with `AUTH_MAIL_WEBHOOK_URL`)'),
    AUTH_SMTP_PORT: env.int(1, 65_535).default(587).describe("the relay's port"),
    AUTH_SMTP_TLS: z
      .enum(['starttls', 'tls', 'none'])
      .default('starttls')
      .describe('`starttls` (upgrade required), `tls` (TLS from the first byte, port 465) or `none` (a plain local relay)'),
    AUTH_SMTP_USER: env.string().optional().describe('SMTP login, when the relay wants one'),
    AUTH_SMTP_PASSWORD: env.string().optional().describe('password of `AUTH_SMTP_USER`'),
    AUTH_MAIL_FROM: z
      .string()
      .regex(/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address or "Name <address>"')
      .optional()
      .meta({
        description: 'the From of every mail: `no-reply@example.com` or `Example <no-reply@example.com>`',
        unset: 'none (required with SMTP)',
      }),
    AUTH_MAIL_MAX_ATTEMPTS: env.int(1, 20).default(6).describe('attempts per mail'),
    AUTH_MAIL_RETRY_BASE_MS: env.int(10, 600_000).default(2_000).describe('first wait between attempts, doubled each time (±20 %)'),
    AUTH_MAIL_RETRY_MAX_MS: env.int(10, 3_600_000).default(300_000).describe('longest wait between attempts'),
    AUTH_MAIL_QUEUE_MAX: env
      .int(1, 100_000)
      .default(1_000)
      .describe('mails waiting at most; more are dropped and counted (`reason="queue_full"`)'),
    AUTH_LINK_BASE_URL: env.url(['http', 'https']).optional().meta({
      description: "your application's pages: links are `<base>/reset-password?token=…` and `<base>/verify-email?token=…`",
      unset: '`PUBLIC_BASE_URL`',
    }),
    AUTH_RESET_TOKEN_TTL_SECONDS: env.int(60, 86_400).default(1_800).describe('lifetime of a password-reset link'),
    AUTH_VERIFICATION_TOKEN_TTL_SECONDS: env.int(60, 2_592_000).default(86_400).describe('lifetime of an email-verification link'),
    AUTH_RECOVERY_MAX_MAILS_PER_HOUR: env.int(1, 1_000).default(5).describe('recovery mails per address per hour'),
    AUTH_RECOVERY_MAX_REQUESTS_PER_IP_PER_HOUR: env.int(1, 100_000).default(30).describe('recovery requests per IP per hour'),
    AUTH_ADMIN_EMAIL: z
      .email()
      .optional()
      .describe('bootstrap admin, with `AUTH_ADMIN_PASSWORD`: created at start if missing, or given the admin role; idempotent'),
    AUTH_ADMIN_PASSWORD: env.string().optional().describe("the bootstrap admin's password"),
  })
  .refine((value) => !value.AUTH_ADMIN_EMAIL === !value.AUTH_ADMIN_PASSWORD, {
    message: 'set both AUTH_ADMIN_EMAIL and AUTH_ADMIN_PASSWORD, or neither',
    path: ['AUTH_ADMIN_PASSWORD'],
  })
  .refine((value) => !(value.AUTH_SMTP_HOST && value.AUTH_MAIL_WEBHOOK_URL), {
    message: 'set AUTH_SMTP_HOST or AUTH_MAIL_WEBHOOK_URL, not both: mail goes one way',
    path: ['AUTH_SMTP_HOST'],
  })
  .refine((value) => !value.AUTH_SMTP_HOST || value.AUTH_MAIL_FROM, {
    message: 'AUTH_SMTP_HOST needs AUTH_MAIL_FROM, the From address of the mails',
    path: ['AUTH_MAIL_FROM'],
  })
  .refine((value) => !value.AUTH_SMTP_PASSWORD || value.AUTH_SMTP_USER, {
    message: 'AUTH_SMTP_PASSWORD needs AUTH_SMTP_USER',
    path: ['AUTH_SMTP_USER'],
  })
  .refine((value) => value.AUTH_ARGON2_CONCURRENCY === undefined || value.AUTH_ARGON2_CONCURRENCY < threadpoolSize(value), {
    message:
      "must be below UV_THREADPOOL_SIZE (4 when unset): the pool's other work (files, DNS, other crypto) must not wait behind the hashes",
    path: ['AUTH_ARGON2_CONCURRENCY'],
  })
  .refine((value) => value.AUTH_JWT_KEYS_FILE || value.AUTH_JWT_KEYS || value.AUTH_GENERATE_SIGNING_KEY, {
    message: 'no signing key: set AUTH_JWT_KEYS_FILE or AUTH_JWT_KEYS (or AUTH_GENERATE_SIGNING_KEY=true for a throwaway key)',
    path: ['AUTH_JWT_KEYS_FILE'],
  });

export type AuthEnv = z.infer<typeof authEnvSchema>;

export interface AuthConfig extends CommonConfig, DatabaseConfig {
  redisUrl: string | undefined;
  /** Undefined when no brokers are configured: events then wait in the outbox, or go to an injected bus. */
  kafka: KafkaConfig | undefined;
  outbox: OutboxConfig;
  consumerGroup: string;
  issuer: string;
  audience: string;
  tokenCache: VerifierConfig['tokenCache'];
  signingKeys: { file: string | undefined; inline: string | undefined; activeKid: string | undefined; generate: boolean };
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  argon2: { memoryKib: number; timeCost: number; parallelism: number };
  /** Hashes at once and waiting at most (domain/hashing-queue.ts). */
  hashing: HashingLimits;
  passwordMinLength: number;
  /** Accounts GET /me answers from memory (domain/account-views.ts). */
  accountViews: AccountViewSettings;
  loginThrottle: {
    maxFailuresPerAccount: number;
    maxFailuresPerIp: number;
    windowSeconds: number;
    backoffBaseSeconds: number;
    backoffMaxSeconds: number;
  };
  admin: { email: string; password: string } | undefined;
  /** How mail leaves: SMTP or a webhook (else the log), delivered in the background with retries. */
  mail: {
    webhookUrl: string | undefined;
    smtp: SmtpSettings | undefined;
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    maxQueued: number;
  };
  recovery: {
    linkBaseUrl: string;
    resetTokenTtlSeconds: number;
    verificationTokenTtlSeconds: number;
    maxMailsPerHour: number;
    maxRequestsPerIpPerHour: number;
  };
}

export const loadAuthConfig = (source: NodeJS.ProcessEnv = process.env): AuthConfig => {
  const e = loadConfig(authEnvSchema, source);
  return {
    ...readCommonConfig(e),
    ...readDatabaseConfig(e),
    redisUrl: readRedisUrl(e),
    kafka: readKafkaConfig(e, 'galion-auth'),
    outbox: readOutboxConfig(e),
    consumerGroup: e.AUTH_CONSUMER_GROUP,
    issuer: `${e.PUBLIC_BASE_URL.replace(/\/+$/, '')}/api/v1/auth`,
    audience: e.JWT_AUDIENCE,
    tokenCache: readTokenCacheConfig(e),
    signingKeys: {
      file: e.AUTH_JWT_KEYS_FILE,
      inline: e.AUTH_JWT_KEYS,
      activeKid: e.AUTH_JWT_ACTIVE_KID,
      generate: e.AUTH_GENERATE_SIGNING_KEY,
    },
    accessTokenTtlSeconds: e.AUTH_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: e.AUTH_REFRESH_TOKEN_TTL_SECONDS,
    refreshReuseGraceSeconds: e.AUTH_REFRESH_REUSE_GRACE_SECONDS,
    argon2: { memoryKib: e.AUTH_ARGON2_MEMORY_KIB, timeCost: e.AUTH_ARGON2_TIME_COST, parallelism: e.AUTH_ARGON2_PARALLELISM },
    hashing: {
      // One slot fewer than the pool's threads at most, so files and DNS always find a thread.
      concurrency: e.AUTH_ARGON2_CONCURRENCY ?? Math.max(1, Math.min(availableParallelism(), threadpoolSize(e) - 1)),
      maxWaiting: e.AUTH_ARGON2_QUEUE_MAX,
    },
    passwordMinLength: e.AUTH_PASSWORD_MIN_LENGTH,
    accountViews: { maxEntries: e.AUTH_ACCOUNT_CACHE_MAX_ENTRIES, maxAgeMs: e.AUTH_ACCOUNT_CACHE_TTL_SECONDS * 1000 },
    loginThrottle: {
      maxFailuresPerAccount: e.AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: e.AUTH_LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: e.AUTH_LOGIN_FAILURE_WINDOW_SECONDS,
      backoffBaseSeconds: e.AUTH_LOGIN_BACKOFF_BASE_SECONDS,
      backoffMaxSeconds: e.AUTH_LOGIN_BACKOFF_MAX_SECONDS,
    },
    mail: {
      webhookUrl: e.AUTH_MAIL_WEBHOOK_URL,
      smtp: e.AUTH_SMTP_HOST
        ? {
            host: e.AUTH_SMTP_HOST,
            port: e.AUTH_SMTP_PORT,
            tls: e.AUTH_SMTP_TLS,
            user: e.AUTH_SMTP_USER,
            password: e.AUTH_SMTP_PASSWORD,
            from: e.AUTH_MAIL_FROM ?? '',
          }
        : undefined,
      maxAttempts: e.AUTH_MAIL_MAX_ATTEMPTS,
      baseDelayMs: e.AUTH_MAIL_RETRY_BASE_MS,
      maxDelayMs: e.AUTH_MAIL_RETRY_MAX_MS,
      maxQueued: e.AUTH_MAIL_QUEUE_MAX,
    },
    recovery: {
      linkBaseUrl: (e.AUTH_LINK_BASE_URL ?? e.PUBLIC_BASE_URL).replace(/\/+$/, ''),
      resetTokenTtlSeconds: e.AUTH_RESET_TOKEN_TTL_SECONDS,
      verificationTokenTtlSeconds: e.AUTH_VERIFICATION_TOKEN_TTL_SECONDS,
      maxMailsPerHour: e.AUTH_RECOVERY_MAX_MAILS_PER_HOUR,
      maxRequestsPerIpPerHour: e.AUTH_RECOVERY_MAX_REQUESTS_PER_IP_PER_HOUR,
    },
    admin: e.AUTH_ADMIN_EMAIL && e.AUTH_ADMIN_PASSWORD ? { email: e.AUTH_ADMIN_EMAIL, password: e.AUTH_ADMIN_PASSWORD } : undefined,
  };
};
