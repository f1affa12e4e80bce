import { createHash } from 'node:crypto';
import { tooManyRequests, type KeyValueStore } from '@galion/kit';

export interface LoginThrottleSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
}

/** What the check before a login's hash found, for what follows it. */
export interface LoginAttempt {
  failuresOnRecord: boolean;
}

const shortHash = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/**
 * Brute-force limits on login, shared by replicas through the store. Failures count per
 * (account, IP) and per IP; past a limit, attempts wait a delay that doubles with each further
 * failure. Keying on the pair means nobody can lock a real user out from another address.
 */
export class LoginThrottle {
  constructor(
    private readonly store: KeyValueStore,
    private readonly settings: LoginThrottleSettings,
  ) {}

  private keys(email: string, ip: string) {
    const account = `${shortHash(email)}:${ip}`;
    return {
      accountFailures: `login:failures:account:${account}`,
      accountBlock: `login:block:account:${account}`,
      ipFailures: `login:failures:ip:${ip}`,
      ipBlock: `login:block:ip:${ip}`,
    };
  }

  /**
   * Throws 429 with Retry-After while this (account, IP) or this IP must wait. Otherwise says
   * whether this (account, IP) has failures on record, for `recordSuccess` to clear: one Redis
   * round trip for both.
   */
  async check(email: string, ip: string): Promise<LoginAttempt> {
    const keys = this.keys(email, ip);
    const [accountWait, ipWait, failuresLeft] = await this.store.ttlsMs([keys.accountBlock, keys.ipBlock, keys.accountFailures]);
    const waitMs = Math.max(accountWait!, ipWait!);
    if (waitMs > 0) throw tooManyRequests(waitMs / 1000, 'Too many failed logins. Wait before trying again.');
    // Every failure count has a time to live (the window), so a count on record has one left.
    return { failuresOnRecord: failuresLeft! > 0 };
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    const windowMs = this.settings.windowSeconds * 1000;
    const [accountFailures, ipFailures] = await Promise.all([
      this.store.increment(keys.accountFailures, windowMs),
      this.store.increment(keys.ipFailures, windowMs),
    ]);
    await Promise.all([
      this.blockIfOver(keys.accountBlock, accountFailures, this.settings.maxFailuresPerAccount),
      this.blockIfOver(keys.ipBlock, ipFailures, this.settings.maxFailuresPerIp),
    ]);
  }

  /**
   * A login succeeded: this (account, IP) starts again from no failures. Nothing to clear (the
   * usual case) costs no round trip; a failure recorded between the check and now is left to its
   * window, as if it had come just after this login.
   */
  async recordSuccess(email: string, ip: string, attempt: LoginAttempt): Promise<void> {
    if (!attempt.failuresOnRecord) return;
    const keys = this.keys(email, ip);
    await this.store.delete(keys.accountFailures, keys.accountBlock);
  }

  private async blockIfOver(blockKey: string, failures: number, limit: number): Promise<void> {
    if (failures < limit) return;
    const doublings = Math.min(failures - limit, 20);
    const delaySeconds = Math.min(this.settings.backoffMaxSeconds, this.settings.backoffBaseSeconds * 2 ** doublings);
    await this.store.set(blockKey, '1', delaySeconds * 1000);
  }
}
