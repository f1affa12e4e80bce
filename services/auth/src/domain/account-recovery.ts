import { randomUUID } from 'node:crypto';
import { appendToOutbox, createEvent } from '@galion/events';
import { badRequest, conflict, tooManyRequests, validationFailed, type KeyValueStore, type Knex, type Logger } from '@galion/kit';
import type { Denylist } from '@galion/tokens';
import type { Account, AccountRepository } from '../repositories/accounts.js';
import type { OneTimeTokenRepository, TokenPurpose } from '../repositories/one-time-tokens.js';
import type { RefreshTokenRepository } from '../repositories/refresh-tokens.js';
import { normaliseEmail } from './auth-service.js';
import type { Mailer } from './mailer.js';
import { checkPassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import { hashRefreshToken, newRefreshToken } from './tokens.js';

export interface RecoverySettings {
  /** Where the application's pages live; links are `<base>/reset-password?token=…` and `<base>/verify-email?token=…`. */
  linkBaseUrl: string;
  resetTokenTtlSeconds: number;
  verificationTokenTtlSeconds: number;
  /** Mails of one kind an address may be sent per hour, and requests one IP may make per hour. */
  maxMailsPerHour: number;
  maxRequestsPerIpPerHour: number;
  passwordMinLength: number;
  accessTokenTtlSeconds: number;
}

export interface AccountRecoveryDeps {
  knex: Knex;
  accounts: AccountRepository;
  tokens: OneTimeTokenRepository;
  refreshTokens: RefreshTokenRepository;
  hasher: PasswordHasher;
  denylist: Denylist;
  store: KeyValueStore;
  mailer: Mailer;
  logger: Logger;
  settings: RecoverySettings;
}

const HOUR_MS = 3_600_000;
const SOURCE = 'auth';

/**
 * Password reset and email verification by single-use mailed tokens (stored as hashes). Asking
 * for a reset answers the same whether or not the email has an account.
 */
export class AccountRecovery {
  constructor(private readonly deps: AccountRecoveryDeps) {}

  async requestPasswordReset(emailInput: string, ip: string): Promise<void> {
    await this.limitIp(ip);
    const account = await this.deps.accounts.findByEmail(normaliseEmail(emailInput));
    if (!account || account.status !== 'active' || !(await this.mayMail(account, 'password_reset'))) return;
    const token = await this.issue(account, 'password_reset', this.deps.settings.resetTokenTtlSeconds);
    await this.mail(account, 'password_reset', 'Reset your password', `${this.deps.settings.linkBaseUrl}/reset-password?token=${token}`);
  }

  async resetPassword(token: string, newPassword: string): Promise<void> {
    const accountId = await this.deps.hasher.withPlace((checks) =>
      this.deps.knex.transaction(async (trx) => {
        const record = await this.usable(token, 'password_reset', trx);
        const account = await this.deps.accounts.findById(record.accountId, trx);
        if (!account || account.status !== 'active') throw invalidToken('password_reset');
        const problems = checkPassword(newPassword, account.email, this.deps.settings.passwordMinLength).map((problem) => ({
          ...problem,
          path: 'body.new_password',
        }));
        if (problems.length > 0) throw validationFailed(problems, 'The new password does not meet the password policy.');
        await this.deps.tokens.markUsed(record.id, trx);
        await this.deps.accounts.update(account.id, { passwordHash: await checks.hash(newPassword) }, trx);
        await this.deps.refreshTokens.revokeAllOfAccount(account.id, trx);
        await appendToOutbox(trx, createEvent('user.password_changed', { source: SOURCE, subject: account.id, data: { reason: 'reset' } }));
        return account.id;
      }),
    );
    // Whoever held the old password loses every session at once.
    await this.deps.denylist.revokeUser(accountId, Date.now() / 1000, this.deps.settings.accessTokenTtlSeconds);
  }

  async requestEmailVerification(userId: string, ip: string): Promise<void> {
    await this.limitIp(ip);
    const account = await this.deps.accounts.findById(userId);
    if (!account) return;
    if (account.emailVerifiedAt) throw conflict('email_already_verified', 'This email address is already verified.');
    if (!(await this.mayMail(account, 'email_verification')))
      throw tooManyRequests(HOUR_MS / 1000, 'Too many verification mails; try again later.');
    const token = await this.issue(account, 'email_verification', this.deps.settings.verificationTokenTtlSeconds);
    await this.mail(
      account,
      'email_verification',
      'Confirm your email address',
      `${this.deps.settings.linkBaseUrl}/verify-email?token=${token}`,
    );
  }

  async verifyEmail(token: string): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      const record = await this.usable(token, 'email_verification', trx);
      const account = await this.deps.accounts.findById(record.accountId, trx);
      if (!account) throw invalidToken('email_verification');
      await this.deps.tokens.markUsed(record.id, trx);
      await this.deps.accounts.update(account.id, { emailVerifiedAt: new Date() }, trx);
      await appendToOutbox(
        trx,
        createEvent('user.email_verified', { source: SOURCE, subject: account.id, data: { email: account.email } }),
      );
    });
  }

  private async issue(account: Account, purpose: TokenPurpose, ttlSeconds: number): Promise<string> {
    const token = newRefreshToken();
    await this.deps.tokens.replace({
      id: randomUUID(),
      accountId: account.id,
      purpose,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(Date.now() + ttlSeconds * 1000),
    });
    return token;
  }

  private async usable(token: string, purpose: TokenPurpose, trx: Knex.Transaction) {
    const record = await this.deps.tokens.findForUpdate(hashRefreshToken(token), trx);
    if (!record || record.purpose !== purpose || record.usedAt || record.expiresAt <= new Date()) throw invalidToken(purpose);
    return record;
  }

  private async mail(account: Account, purpose: TokenPurpose, subject: string, link: string): Promise<void> {
    const text = `${subject}: open ${link}\nIf you did not ask for this, ignore this message.`;
    try {
      await this.deps.mailer.send({ to: account.email, subject, text, purpose, link });
    } catch (error) {
      // The answer does not depend on mail delivery (no enumeration); the failure is logged.
      this.deps.logger.error({ err: error, user_id: account.id, purpose }, 'sending mail failed');
    }
  }

  private async mayMail(account: Account, purpose: TokenPurpose): Promise<boolean> {
    const count = await this.deps.store.increment(`recovery:mail:${purpose}:${account.id}`, HOUR_MS);
    return count <= this.deps.settings.maxMailsPerHour;
  }

  private async limitIp(ip: string): Promise<void> {
    const key = `recovery:ip:${ip}`;
    const count = await this.deps.store.increment(key, HOUR_MS);
    if (count > this.deps.settings.maxRequestsPerIpPerHour) throw tooManyRequests((await this.deps.store.ttlMs(key)) / 1000);
  }
}

const invalidToken = (purpose: TokenPurpose) =>
  purpose === 'password_reset'
    ? badRequest('reset_token_invalid', 'The reset link is not valid or has expired; ask for a new one.')
    : badRequest('verification_token_invalid', 'The verification link is not valid or has expired; ask for a new one.');
