import type { Logger } from '@galion/kit';
import type { ErasureCounts, ErasureRepository } from '../repositories/erasure.js';

/**
 * The right to erasure (docs/analytics.md, Erasure): when a user is deleted, their events and
 * their share of the rollups go, in one transaction, and later events of theirs are not stored.
 */
export class UserErasure {
  constructor(
    private readonly repository: ErasureRepository,
    private readonly logger: Logger,
    private readonly onErased: () => void = () => undefined,
  ) {}

  async erase(userId: string): Promise<ErasureCounts> {
    const counts = await this.repository.erase(userId);
    this.onErased();
    this.logger.info({ user_id: userId, ...counts }, 'a deleted user’s events were erased');
    return counts;
  }
}
