import {
  connectStore,
  Counter,
  Gauge,
  type ComposedService,
  type Registry,
  type KeyValueStore,
  type Logger,
  httpSettings,
  openServiceWithDatabase,
} from '@galion/kit';
import { type EventBus, type OutboxRelay, startTwoWayEventFlow } from '@galion/events';
import { StaticKeySource, StoreDenylist, TokenVerifier } from '@galion/tokens';
import { createAuthApp } from './app.js';
import { BASE as AUTH_BASE } from './routes/auth-routes.js';
import type { AuthConfig } from './config.js';
import { AccountRecovery } from './domain/account-recovery.js';
import { AccountViews } from './domain/account-views.js';
import { AuthService } from './domain/auth-service.js';
import { HashingQueue } from './domain/hashing-queue.js';
import { LoginThrottle } from './domain/login-throttle.js';
import { BackgroundMailer, LogMailer, SmtpMailer, WebhookMailer, type Mailer } from './domain/mailer.js';
import { PasswordHasher } from './domain/passwords.js';
import { loadSigningKeys, type SigningKeyRing } from './domain/signing-keys.js';

export { loadAuthConfig, type AuthConfig } from './config.js';
import { AccessTokenIssuer } from './domain/tokens.js';
import { authMigrations } from './migrations/index.js';
import { AccountRepository } from './repositories/accounts.js';
import { OneTimeTokenRepository } from './repositories/one-time-tokens.js';
import { RefreshTokenRepository } from './repositories/refresh-tokens.js';
import { SignInRepository } from './repositories/sign-ins.js';

export interface AuthInfrastructure {
  logger: Logger;
  /** A store shared with other services in one process (all-in-one); otherwise Redis or memory from config. */
  store?: KeyValueStore;
  /** Create the database when missing (all-in-one and tests). */
  createDatabase?: boolean;
  /** An event bus shared in one process (all-in-one); otherwise Kafka from config, if configured. */
  bus?: EventBus;
  /** Where recovery mails go; by default the configured webhook, or the log. */
  mailer?: Mailer;
}

export interface ComposedAuth extends ComposedService {
  auth: AuthService;
  recovery: AccountRecovery;
  relay: OutboxRelay | undefined;
  keys: SigningKeyRing;
  verifier: TokenVerifier;
}

const EXPIRED_TOKEN_SWEEP_MS = 3_600_000;

/** Composes the auth service from its configuration: clients, domain, app, health, shutdown hooks. */
export const composeAuth = async (config: AuthConfig, infra: AuthInfrastructure): Promise<ComposedAuth> => {
  const { logger } = infra;
  const { closers, metrics, health, knex } = await openServiceWithDatabase({
    service: 'auth',
    config,
    migrations: authMigrations,
    logger,
    create: infra.createDatabase,
  });

  const kv = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });

  const { ring: keys, generated } = await loadSigningKeys(config.signingKeys);
  if (generated) {
    logger.warn(
      { kid: keys.active.kid },
      'no signing key configured: generated a throwaway Ed25519 key; tokens will not survive a restart',
    );
  }
  logger.info({ kids: keys.keys.map((key) => key.kid), active_kid: keys.active.kid }, 'signing keys loaded');

  const denylist = new StoreDenylist(kv);
  const verifier = new TokenVerifier({
    keys: await StaticKeySource.fromJwks(keys.publicJwks()),
    issuer: config.issuer,
    audience: config.audience,
    denylist,
    cache: config.tokenCache,
  });
  const logins = new Counter({
    name: 'auth_logins_total',
    help: 'Login attempts by result.',
    labelNames: ['result'] as const,
    registers: [metrics.registry],
  });
  const reuse = new Counter({
    name: 'auth_refresh_reuse_detected_total',
    help: 'Refresh tokens reused after rotation (session families revoked).',
    registers: [metrics.registry],
  });
  const hashesRefused = new Counter({
    name: 'auth_password_hashes_refused_total',
    help: 'Password hashes and checks (logins, registrations, password changes and resets) answered 503 at once because AUTH_ARGON2_CONCURRENCY were running and AUTH_ARGON2_QUEUE_MAX waiting.',
    registers: [metrics.registry],
  });
  const hashing = new HashingQueue(config.hashing, () => hashesRefused.inc());
  // Read when scraped: nothing to do per hash.
  new Gauge({
    name: 'auth_password_hashes_waiting',
    help: 'Password hashes and checks waiting for their turn (at most AUTH_ARGON2_QUEUE_MAX).',
    registers: [metrics.registry],
    collect() {
      this.set(hashing.waiting);
    },
  });
  new Gauge({
    name: 'auth_password_hashes_running',
    help: 'Password hashes and checks being computed (at most AUTH_ARGON2_CONCURRENCY).',
    registers: [metrics.registry],
    collect() {
      this.set(hashing.running);
    },
  });
  const refreshTokens = new RefreshTokenRepository(knex);
  const accounts = new AccountRepository(knex);
  const hasher = new PasswordHasher(config.argon2, hashing);
  const auth = new AuthService({
    knex,
    accounts,
    views: new AccountViews(config.accountViews),
    refreshTokens,
    signIns: new SignInRepository(knex),
    hasher,
    issuer: new AccessTokenIssuer(keys, { issuer: config.issuer, audience: config.audience, ttlSeconds: config.accessTokenTtlSeconds }),
    throttle: new LoginThrottle(kv, config.loginThrottle),
    denylist,
    settings: {
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
      refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
      passwordMinLength: config.passwordMinLength,
    },
    counters: { login: (result) => logins.inc({ result }), refreshReuseDetected: () => reuse.inc() },
    logger,
  });

  const mailer = infra.mailer ?? deliverMail(config.mail, { registry: metrics.registry, logger });
  closers.push({ name: 'mail delivery', close: async () => mailer.close?.() });
  const recovery = new AccountRecovery({
    knex,
    accounts,
    tokens: new OneTimeTokenRepository(knex),
    refreshTokens,
    hasher,
    denylist,
    store: kv,
    mailer,
    logger,
    settings: { ...config.recovery, passwordMinLength: config.passwordMinLength, accessTokenTtlSeconds: config.accessTokenTtlSeconds },
  });

  if (config.admin) {
    const { account, created } = await auth.ensureAdmin(config.admin);
    logger.info({ user_id: account.id, email: account.email, created }, 'bootstrap admin ensured');
  }

  const sweep = setInterval(() => {
    refreshTokens.deleteExpired(new Date(Date.now() - 86_400_000)).catch((error: unknown) => {
      logger.warn({ err: error }, 'deleting expired refresh tokens failed');
    });
  }, EXPIRED_TOKEN_SWEEP_MS);
  sweep.unref();
  closers.push({ name: 'token sweep', close: async () => clearInterval(sweep) });

  const { relay } = await startTwoWayEventFlow({
    injected: infra.bus,
    config,
    knex,
    logger,
    registry: metrics.registry,
    closers,
    apply: (event, trx) => auth.applyUserEvent(event, trx),
  });

  const app = createAuthApp({
    logger,
    metrics,
    health,
    auth,
    recovery,
    verifier,
    keys,
    issuer: config.issuer,
    passwordMinLength: config.passwordMinLength,
    refreshCookie: {
      paths: [`${AUTH_BASE}/refresh`, `${AUTH_BASE}/logout`],
      secure: new URL(config.issuer).protocol === 'https:',
      maxAgeSeconds: config.refreshTokenTtlSeconds,
      origin: new URL(config.issuer).origin,
    },
    ...httpSettings(config),
  });
  return { app, metrics, health, closers, auth, recovery, keys, verifier, relay };
};

/** SMTP or the webhook, in the background with retries and counted; the log when neither is set. */
const deliverMail = (mail: AuthConfig['mail'], deps: { registry: Registry; logger: Logger }): Mailer => {
  // Registered either way, so the metrics contract holds whatever the mail settings.
  const sent = new Counter({ name: 'mail_sent_total', help: 'Mails the mail server or webhook accepted.', registers: [deps.registry] });
  const failures = new Counter({
    name: 'mail_send_failures_total',
    help: 'Failed attempts to send a mail (each may be retried).',
    registers: [deps.registry],
  });
  const abandoned = new Counter({
    name: 'mail_abandoned_total',
    help: 'Mails not sent: every attempt failed (attempts), the queue was full (queue_full) or the process stopped (shutdown).',
    labelNames: ['reason'] as const,
    registers: [deps.registry],
  });
  // Each reason at 0 from the start, so that rate() and increase() see the first one.
  for (const reason of ['attempts', 'queue_full', 'shutdown'] as const) abandoned.inc({ reason }, 0);
  const queued = new Gauge({ name: 'mail_queue_length', help: 'Mails waiting to be sent or under way.', registers: [deps.registry] });
  const transport = mail.smtp ? new SmtpMailer(mail.smtp) : mail.webhookUrl ? new WebhookMailer(mail.webhookUrl) : undefined;
  if (!transport) return new LogMailer(deps.logger);
  return new BackgroundMailer(transport, {
    ...mail,
    logger: deps.logger,
    counters: {
      sent: () => sent.inc(),
      attemptFailed: () => failures.inc(),
      abandoned: (reason) => abandoned.inc({ reason }),
      queueLength: (length) => queued.set(length),
    },
  });
};
