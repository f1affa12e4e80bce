import type { EventEnvelope } from '@galion/events';
import type { Knex, Logger } from '@galion/kit';
import type { MediaRepository } from '../repositories/media.js';
import type { OwnerRepository } from '../repositories/owners.js';
import type { ObjectStore } from '../storage/index.js';
import { SOURCE } from './events.js';
import { objectKeys } from './keys.js';

/** What the erasure of one deleted user removed; nothing when their event came again. */
export interface Erasure {
  userId: string;
  media: number;
  /** False when the user was already erased (a redelivered event). */
  first: boolean;
}

export interface OwnerErasureDeps {
  knex: Knex;
  media: MediaRepository;
  owners: OwnerRepository;
  store: ObjectStore;
  logger: Logger;
}

/**
 * A deleted user's images go (docs/media.md, Deleted accounts): their objects, then their rows.
 * A tombstone is left first, so an upload of theirs still in flight is refused when it would
 * become ready (and removes what it stored). Idempotent: an event delivered again finds nothing
 * left; a store that fails fails the batch, which is retried.
 */
export class OwnerErasure {
  constructor(private readonly deps: OwnerErasureDeps) {}

  /** Applies the `user.deleted` events among `events`; the others are not media's business. */
  async apply(events: readonly EventEnvelope[]): Promise<Erasure[]> {
    const userIds = [
      ...new Set(events.filter((event) => event.type === 'user.deleted' && event.source !== SOURCE).map((event) => event.subject)),
    ];
    const erasures: Erasure[] = [];
    for (const userId of userIds) {
      const erasure = await this.erase(userId);
      erasures.push(erasure);
      if (erasure.first || erasure.media > 0) {
        this.deps.logger.info({ user_id: userId, media: erasure.media }, 'a deleted user’s images were removed');
      }
    }
    return erasures;
  }

  private async erase(userId: string): Promise<Erasure> {
    const { first, media } = await this.deps.knex.transaction(async (trx) => {
      // Waits for the owner's reservations and uploads becoming ready; those after it see the tombstone.
      const marked = await this.deps.owners.markDeleted(userId, trx);
      return { first: marked, media: await this.deps.media.ofOwner(userId, trx) };
    });
    if (media.length > 0) await this.deps.store.delete(media.flatMap((record) => objectKeys(record.id)));
    const removed = await this.deps.knex.transaction(async (trx) => {
      await this.deps.owners.lock(userId, trx);
      const count = await this.deps.media.deleteByOwner(userId, trx);
      await this.deps.owners.clear(userId, trx);
      return count;
    });
    return { userId, media: removed, first };
  }
}
