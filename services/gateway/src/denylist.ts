import type { Logger } from '@galion/kit';
import type { Denylist } from '@galion/tokens';

/**
 * The gateway's view of the denylist. Its check only rejects early: when Redis cannot be asked,
 * the request goes on and the upstream, which checks the denylist itself, decides.
 */
export class FailOpenDenylist implements Denylist {
  private lastWarning = 0;

  constructor(
    private readonly inner: Denylist,
    private readonly onError: () => void,
    private readonly logger: Logger,
  ) {}

  revokeToken(jti: string, expiresAtSeconds: number) {
    return this.inner.revokeToken(jti, expiresAtSeconds);
  }

  revokeUser(userId: string, atSeconds: number, ttlSeconds: number) {
    return this.inner.revokeUser(userId, atSeconds, ttlSeconds);
  }

  async revocation(jti: string, userId: string) {
    try {
      return await this.inner.revocation(jti, userId);
    } catch (error) {
      this.failed(error);
      return { tokenRevoked: false, userRevokedAt: undefined };
    }
  }

  async userRevokedAt(userId: string) {
    try {
      return await this.inner.userRevokedAt(userId);
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  private failed(error: unknown) {
    this.onError();
    if (Date.now() - this.lastWarning > 10_000) {
      this.lastWarning = Date.now();
      this.logger.warn({ err: error }, 'denylist unavailable; the upstream service checks revocation itself');
    }
  }
}
