import { randomUUID } from 'node:crypto';
import { appendToOutbox, createEvent, uuidv7, type AfterCommit, type EventData, type EventEnvelope, type EventType } from '@galion/events';
import { conflict, isUniqueViolation, notFound, unauthorized, validationFailed, type Knex, type Logger } from '@galion/kit';
import type { AccessClaims, Denylist, Role } from '@galion/tokens';
import { ACCOUNTS_EMAIL_UNIQUE, type Account, type AccountRepository } from '../repositories/accounts.js';
import type { RefreshTokenRecord, RefreshTokenRepository } from '../repositories/refresh-tokens.js';
import type { SignInRepository } from '../repositories/sign-ins.js';
import type { AccountView, AccountViews } from './account-views.js';
import type { LoginAttempt, LoginThrottle } from './login-throttle.js';
import { checkPassword } from './password-policy.js';
import { judgeRefreshToken } from './refresh-decision.js';
import type { PasswordHasher } from './passwords.js';
import { deriveSuccessorToken, hashRefreshToken, newRefreshToken, newRotationNonce, type AccessTokenIssuer } from './tokens.js';

export type { Account } from '../repositories/accounts.js';
export type { AccountView } from './account-views.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface ClientInfo {
  ip: string;
  userAgent?: string | undefined;
}

export interface AuthSettings {
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  accessTokenTtlSeconds: number;
  passwordMinLength: number;
}

export interface AuthCounters {
  login(result: 'success' | 'failure' | 'throttled'): void;
  refreshReuseDetected(): void;
}

export interface AuthServiceDeps {
  knex: Knex;
  accounts: AccountRepository;
  /** Accounts GET /me serves without a database read. */
  views: AccountViews;
  refreshTokens: RefreshTokenRepository;
  /** A login's writes, in one statement. */
  signIns: SignInRepository;
  hasher: PasswordHasher;
  issuer: AccessTokenIssuer;
  throttle: LoginThrottle;
  denylist: Denylist;
  settings: AuthSettings;
  counters: AuthCounters;
  logger: Logger;
  now?: () => Date;
}

const SOURCE = 'auth';

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

const invalidCredentials = () => unauthorized('invalid_credentials', 'The email or password is not correct.');
const invalidRefreshToken = () => unauthorized('refresh_token_invalid', 'The refresh token is not valid; log in again.');

/**
 * Everything auth does with credentials and sessions, free of HTTP. Each state change and the
 * event announcing it are written in one transaction (the outbox).
 */
export class AuthService {
  private readonly now: () => Date;

  constructor(private readonly deps: AuthServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async register(input: { email: string; password: string; name: string }): Promise<Account> {
    const email = normaliseEmail(input.email);
    const problems = checkPassword(input.password, email, this.deps.settings.passwordMinLength);
    if (problems.length > 0) throw validationFailed(problems, 'The password does not meet the password policy.');
    return this.createAccount({ email, password: input.password, name: input.name.trim(), role: 'user' });
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<TokenPair> {
    const email = normaliseEmail(input.email);
    const { throttle, hasher, accounts, counters } = this.deps;
    const { account, passwordOk, rehash, attempt } = await hasher.withPlace(async (checks) => {
      let checked: LoginAttempt;
      try {
        checked = await throttle.check(email, client.ip);
      } catch (error) {
        counters.login('throttled');
        throw error;
      }
      const found = await accounts.findByEmail(email);
      const matches = found ? await checks.verify(found.passwordHash, input.password) : await checks.verifyNothing(input.password);
      // Not worth a wait behind other logins, nor a refusal: the next login rehashes.
      const rehashed =
        found && matches && found.status === 'active' && hasher.needsRehash(found.passwordHash)
          ? await checks.hashIfIdle(input.password)
          : undefined;
      return { account: found, passwordOk: matches, rehash: rehashed, attempt: checked };
    });
    if (!account || !passwordOk || account.status !== 'active') {
      await throttle.recordFailure(email, client.ip);
      counters.login('failure');
      // One statement, no transaction: the event announces no other write.
      if (account) {
        await this.emit(this.deps.knex, 'user.login_failed', account.id, {
          reason: passwordOk ? 'disabled' : 'wrong_password',
          ip: client.ip,
        });
      }
      throw invalidCredentials();
    }
    const familyId = randomUUID();
    const refreshToken = newRefreshToken();
    const at = this.now();
    const signedIn = await this.deps.signIns.record({
      accountId: account.id,
      at,
      rehash,
      session: { id: randomUUID(), familyId, tokenHash: hashRefreshToken(refreshToken), expiresAt: this.refreshExpiry() },
      events: [
        createEvent('user.logged_in', {
          source: SOURCE,
          subject: account.id,
          data: { ip: client.ip, ...(client.userAgent ? { user_agent: client.userAgent.slice(0, 256) } : {}) },
          time: at,
        }),
      ],
    });
    // Deleted or deactivated while its password was being checked: as if it had been before.
    if (!signedIn) {
      counters.login('failure');
      throw invalidCredentials();
    }
    await throttle.recordSuccess(email, client.ip, attempt);
    counters.login('success');
    return this.pairFor(account, familyId, refreshToken);
  }

  /**
   * Rotates a refresh token. A token already rotated is answered with the same successor for a
   * short grace window (two tabs refreshing at once); after it, reuse means theft: the whole
   * family is revoked.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const outcome = await this.inTransaction(async (trx) => {
      const record = await this.deps.refreshTokens.findByHashForUpdate(hashRefreshToken(refreshToken), trx);
      if (!record) return { error: invalidRefreshToken() };
      const verdict = judgeRefreshToken(record, this.now(), this.deps.settings.refreshReuseGraceSeconds);
      if (verdict === 'revoked') return { error: unauthorized('refresh_token_revoked', 'This session has ended; log in again.') };
      if (verdict === 'expired') return { error: unauthorized('refresh_token_expired', 'The refresh token has expired; log in again.') };
      const account = await this.deps.accounts.findById(record.accountId, trx);
      if (!account || account.status !== 'active') return { error: invalidRefreshToken() };
      // Deleted or deactivated elsewhere a moment ago (the event may still be on its way): refuse now.
      const revokedAt = await this.deps.denylist.userRevokedAt(record.accountId);
      if (revokedAt !== undefined && record.createdAt.getTime() / 1000 <= revokedAt) {
        return { error: unauthorized('refresh_token_revoked', 'This session has ended; log in again.') };
      }
      if (verdict === 'rotate') return { pair: await this.rotate(record, refreshToken, account, trx) };
      if (verdict === 'within-grace') {
        const successor = await this.successorWithinGrace(record, refreshToken, trx);
        if (successor) return { pair: await this.pairFor(account, record.familyId, successor) };
      }
      await this.deps.refreshTokens.revokeFamily(record.familyId, trx);
      return { reused: record };
    });
    if ('reused' in outcome && outcome.reused) {
      this.deps.counters.refreshReuseDetected();
      this.deps.logger.warn(
        { user_id: outcome.reused.accountId, family_id: outcome.reused.familyId },
        'refresh token reused after rotation; the session family was revoked',
      );
      throw unauthorized('refresh_token_reused', 'This refresh token was already used; the session has been ended for safety.');
    }
    if ('error' in outcome && outcome.error) throw outcome.error;
    return (outcome as { pair: TokenPair }).pair;
  }

  /** Ends the session of `claims` (or every session), and refuses its access token from now on. */
  async logout(claims: AccessClaims & { sid?: string }, options: { refreshToken?: string; allSessions?: boolean } = {}): Promise<void> {
    await this.inTransaction(async (trx) => {
      if (options.allSessions) {
        await this.deps.refreshTokens.revokeAllOfAccount(claims.sub, trx);
      } else {
        const families = new Set<string>();
        if (claims.sid) families.add(claims.sid);
        if (options.refreshToken) {
          const record = await this.deps.refreshTokens.findByHashForUpdate(hashRefreshToken(options.refreshToken), trx);
          if (record && record.accountId === claims.sub) families.add(record.familyId);
        }
        for (const family of families) await this.deps.refreshTokens.revokeFamily(family, trx);
      }
      await this.emit(trx, 'user.logged_out', claims.sub, { all_sessions: options.allSessions === true });
    });
    await this.deps.denylist.revokeToken(claims.jti, claims.exp);
    if (options.allSessions) {
      await this.deps.denylist.revokeUser(claims.sub, this.now().getTime() / 1000, this.deps.settings.accessTokenTtlSeconds);
    }
  }

  async changePassword(claims: AccessClaims, input: { currentPassword: string; newPassword: string }): Promise<void> {
    const { account, hash } = await this.deps.hasher.withPlace(async (checks) => {
      const current = await this.currentAccount(claims.sub);
      if (!(await checks.verify(current.passwordHash, input.currentPassword))) {
        throw unauthorized('invalid_credentials', 'The current password is not correct.');
      }
      const problems = checkPassword(input.newPassword, current.email, this.deps.settings.passwordMinLength).map((problem) => ({
        ...problem,
        path: 'body.new_password',
      }));
      if (problems.length > 0) throw validationFailed(problems, 'The new password does not meet the password policy.');
      return { account: current, hash: await checks.hash(input.newPassword) };
    });
    await this.inTransaction(async (trx) => {
      await this.deps.accounts.update(account.id, { passwordHash: hash }, trx);
      await this.deps.refreshTokens.revokeAllOfAccount(account.id, trx);
      await this.emit(trx, 'user.password_changed', account.id, { reason: 'change' });
    });
    // Other sessions end with the password change; the caller logs in again with the new one.
    await this.deps.denylist.revokeUser(account.id, this.now().getTime() / 1000, this.deps.settings.accessTokenTtlSeconds);
  }

  async currentAccount(userId: string): Promise<Account> {
    const account = await this.deps.accounts.findById(userId);
    if (!account || account.status !== 'active') throw notFound('This account no longer exists.', 'account_not_found');
    return account;
  }

  /**
   * The caller's own account (GET /me): kept in memory once nothing it shows can change (see
   * AccountViews), else read from the database. The caller's token has passed the denylist.
   */
  async me(claims: AccessClaims): Promise<AccountView> {
    const kept = this.deps.views.get(claims.sub, claims.role);
    if (kept) return kept;
    const account = await this.currentAccount(claims.sub);
    this.deps.views.remember(account);
    return account;
  }

  /**
   * Applies what the users service decided: a deleted user loses the account and every session;
   * a role or status change reaches the credentials. Idempotent, for at-least-once delivery.
   */
  async applyUserEvent(event: EventEnvelope, trx: Knex.Transaction): Promise<AfterCommit | undefined> {
    if (event.source === SOURCE) return undefined;
    // Once committed: a read before then would keep the old account again.
    const forget = async () => this.deps.views.forget(event.subject);
    if (event.type === 'user.deleted') {
      await this.deps.accounts.delete(event.subject, trx);
      return forget;
    }
    if (event.type === 'user.updated') {
      const data = event.data as EventData<'user.updated'>;
      if (data.role === undefined && data.active === undefined) return undefined;
      await this.deps.accounts.update(
        event.subject,
        {
          ...(data.role ? { role: data.role } : {}),
          ...(data.active !== undefined ? { status: data.active ? 'active' : 'disabled' } : {}),
        },
        trx,
      );
      if (data.active === false || data.role !== undefined) await this.deps.refreshTokens.revokeAllOfAccount(event.subject, trx);
      return forget;
    }
    return undefined;
  }

  /** Creates the configured admin if missing, or gives an existing account the admin role. Idempotent. */
  async ensureAdmin(input: { email: string; password: string }): Promise<{ account: Account; created: boolean }> {
    const email = normaliseEmail(input.email);
    const existing = await this.deps.accounts.findByEmail(email);
    if (existing) {
      if (existing.role !== 'admin') {
        await this.inTransaction(async (trx) => {
          await this.deps.accounts.update(existing.id, { role: 'admin' }, trx);
          await this.emit(trx, 'user.updated', existing.id, { changes: ['role'], role: 'admin' });
        });
      }
      return { account: { ...existing, role: 'admin' }, created: false };
    }
    try {
      return {
        account: await this.createAccount({ email, password: input.password, name: 'Administrator', role: 'admin' }),
        created: true,
      };
    } catch (error) {
      // Another replica bootstrapped the same admin at the same moment.
      const raced = await this.deps.accounts.findByEmail(email);
      if (raced) return { account: raced, created: false };
      throw error;
    }
  }

  private async createAccount(input: { email: string; password: string; name: string; role: Role }): Promise<Account> {
    const passwordHash = await this.deps.hasher.hash(input.password);
    try {
      return await this.inTransaction(async (trx) => {
        const account = await this.deps.accounts.insert(
          { id: uuidv7(), email: input.email, name: input.name, role: input.role, passwordHash },
          trx,
        );
        await this.emit(trx, 'user.registered', account.id, { email: account.email, name: account.name, role: account.role });
        return account;
      });
    } catch (error) {
      if (isUniqueViolation(error, ACCOUNTS_EMAIL_UNIQUE)) throw conflict('email_taken', 'An account with this email already exists.');
      throw error;
    }
  }

  private async rotate(record: RefreshTokenRecord, token: string, account: Account, trx: Knex.Transaction): Promise<TokenPair> {
    const nonce = newRotationNonce();
    const successor = deriveSuccessorToken(token, nonce);
    const successorId = randomUUID();
    await this.deps.refreshTokens.insert(
      {
        id: successorId,
        familyId: record.familyId,
        accountId: record.accountId,
        tokenHash: hashRefreshToken(successor),
        expiresAt: this.refreshExpiry(),
      },
      trx,
    );
    await this.deps.refreshTokens.markRotated(record.id, { replacedBy: successorId, nonce, at: this.now() }, trx);
    return this.pairFor(account, record.familyId, successor);
  }

  private async successorWithinGrace(record: RefreshTokenRecord, token: string, trx: Knex.Transaction): Promise<string | undefined> {
    if (!record.rotationNonce || !record.replacedBy) return undefined;
    const successor = deriveSuccessorToken(token, record.rotationNonce);
    const stored = await this.deps.refreshTokens.findById(record.replacedBy, trx);
    if (!stored || stored.revokedAt || stored.tokenHash !== hashRefreshToken(successor)) return undefined;
    return successor;
  }

  private async pairFor(account: Account, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const access = await this.deps.issuer.issue({ userId: account.id, role: account.role, sessionId });
    return { accessToken: access.token, refreshToken, expiresIn: access.expiresIn };
  }

  private refreshExpiry(): Date {
    return new Date(this.now().getTime() + this.deps.settings.refreshTokenTtlSeconds * 1000);
  }

  private inTransaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.deps.knex.transaction(work);
  }

  private emit<T extends EventType>(db: Knex, type: T, subject: string, data: EventData<T>): Promise<void> {
    return appendToOutbox(db, createEvent(type, { source: SOURCE, subject, data, time: this.now() }));
  }
}
