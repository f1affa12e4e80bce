import { appendToOutbox, uuidv7 } from '@galion/events';
import { AppError, notFound, type Knex, type Logger } from '@galion/kit';
import { keysetPage, rowsToRead, type KeysetPage } from '@galion/pagination';
import type { MediaLimits } from '../config.js';
import { VARIANTS, type MediaRecord, type MediaRepository, type StoredVariant, type Variant } from '../repositories/media.js';
import type { OwnerRepository, Usage } from '../repositories/owners.js';
import { DiskObjectStore, type ObjectStore, type StoredObject } from '../storage/index.js';
import { decodeMediaCursor, mediaPosition } from './cursors.js';
import { mediaEvent } from './events.js';
import { processImage, type ImageFiles } from './images.js';
import { objectKey, objectKeys, parseObjectKey } from './keys.js';
import type { MediaMetrics } from './metrics.js';
import type { Slots } from './slots.js';

export type { MediaRecord, StoredVariant, Variant } from '../repositories/media.js';
export { VARIANTS } from '../repositories/media.js';
export type { Usage } from '../repositories/owners.js';

/** The caller of a route: the token's user. */
export interface Actor {
  id: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export const mediaNotFound = () => notFound('No such image.', 'media_not_found');
export const accountGone = () => notFound('This account no longer exists.', 'account_not_found');

/** 409: the upload is a valid image, but the owner's quota has no room for it. */
export const quotaExceeded = (which: keyof Usage, usage: Usage, quota: Usage): AppError =>
  new AppError(
    409,
    'quota_exceeded',
    which === 'files'
      ? `You keep ${usage.files} of the ${quota.files} images you may keep; delete some first.`
      : `This image does not fit in the ${quota.bytes} bytes you may keep (${usage.bytes} are used); delete some first.`,
    { details: [{ path: `quota.${which}`, message: `the quota of ${which} is ${quota[which]}`, code: 'quota_exceeded' }] },
  );

export const avatarNotSet = () => notFound('You have no avatar.', 'avatar_not_set');

/** Where an avatar is read without a token, on the gateway: the path the profiles hold (media.avatar_changed). */
export const avatarPath = (id: string): string => `/api/v1/media/avatars/${id}`;

/** The owner's avatar: the image and its public path. */
export interface Avatar {
  media: MediaRecord;
  path: string;
}

export const signatureInvalid = () => new AppError(403, 'signature_invalid', 'This URL is not one the service signed.');
export const urlExpired = () => new AppError(403, 'url_expired', 'This URL has expired; ask for a new one.');

/** What a download reads: the image, the variant asked for, and its bytes. */
export interface Download {
  media: MediaRecord;
  variant: StoredVariant;
  object: StoredObject;
}

export interface MediaServiceDeps {
  knex: Knex;
  media: MediaRepository;
  owners: OwnerRepository;
  store: ObjectStore;
  limits: MediaLimits;
  /** sharp's operations at once, of every upload. */
  imageOperations: Slots;
  presignSeconds: number;
  metrics: MediaMetrics;
  logger: Logger;
}

/**
 * What media does with images, free of HTTP. A transaction that changes an owner's images takes
 * the owner's row first (reservation, ready, deletion, clean-up, sweep, erasure), so two of them
 * never wait for each other in opposite orders. An upload is written in three steps, so that no
 * image is ever `ready` without its objects and none is left half-stored: its row `pending`
 * (with its room in the quota), then its objects, then `ready` with its `media.uploaded` event in
 * one transaction. Any failure removes what was stored and the row; a failure of that clean-up is
 * repaired by the sweep (MediaSweeper).
 */
export class MediaService {
  constructor(private readonly deps: MediaServiceDeps) {}

  private get quota(): Usage {
    return { files: this.deps.limits.quotaFiles, bytes: this.deps.limits.quotaBytes };
  }

  /**
   * Refuses at once an upload that cannot be kept, before its body is read: a deleted account, or
   * a quota already full. Whether the image fits is known only once it is processed.
   */
  async checkRoom(actor: Actor): Promise<void> {
    const owner = await this.deps.owners.find(actor.id);
    if (!owner) return;
    if (owner.deletedAt) throw accountGone();
    if (owner.files >= this.quota.files) throw quotaExceeded('files', owner, this.quota);
    if (owner.bytes >= this.quota.bytes) throw quotaExceeded('bytes', owner, this.quota);
  }

  /**
   * Checks, re-encodes and stores an uploaded image (see the class comment): its body is the file
   * `files.body`, its re-encoded original is written to `files.original` (the caller removes both).
   */
  async upload(actor: Actor, files: ImageFiles): Promise<MediaRecord> {
    const stopTimer = this.deps.metrics.processing.startTimer();
    const image = await processImage(files, { maxPixels: this.deps.limits.maxPixels, operations: this.deps.imageOperations }).finally(() =>
      stopTimer(),
    );
    const id = uuidv7();
    const storedBytes = VARIANTS.reduce((sum, variant) => sum + image.variants[variant].bytes, 0);
    const variants = Object.fromEntries(
      VARIANTS.map((variant) => {
        const { body: _body, ...info } = image.variants[variant];
        return [variant, info];
      }),
    ) as Record<Variant, StoredVariant>;

    const pending = await this.deps.knex.transaction(async (trx) => {
      const usage = await this.deps.owners.reserve(actor.id, { files: 1, bytes: storedBytes }, this.quota, trx);
      if (!usage) throw await this.refusal(actor.id, storedBytes, trx);
      return this.deps.media.insertPending(
        {
          id,
          ownerId: actor.id,
          contentType: image.contentType,
          width: image.width,
          height: image.height,
          bytes: image.variants.original.bytes,
          storedBytes,
          variants,
        },
        trx,
      );
    });

    try {
      // Settled all, so that none is still being stored (or reading its file) when the upload is abandoned.
      const puts = await Promise.allSettled(
        VARIANTS.map((variant) =>
          this.deps.store.put(objectKey(id, variant), image.variants[variant].body, image.variants[variant].contentType),
        ),
      );
      const failed = puts.find((put) => put.status === 'rejected');
      if (failed) throw failed.reason;
      const ready = await this.deps.knex.transaction(async (trx) => {
        // Shared with other uploads, exclusive with the owner's erasure: an upload after it is refused.
        const owner = await this.deps.owners.find(actor.id, { db: trx, lock: 'share' });
        if (!owner || owner.deletedAt) throw accountGone();
        const marked = await this.deps.media.markReady(id, trx);
        if (!marked)
          throw new Error(`the pending upload ${id} was removed before its objects were stored (MEDIA_PENDING_GRACE_SECONDS too short?)`);
        await appendToOutbox(
          trx,
          mediaEvent('media.uploaded', actor.id, {
            media_id: id,
            content_type: marked.contentType,
            bytes: marked.bytes,
            width: marked.width,
            height: marked.height,
          }),
        );
        return marked;
      });
      this.deps.metrics.storedBytes.inc(storedBytes);
      return ready;
    } catch (error) {
      await this.abandon(pending, error);
      throw error;
    }
  }

  /** Why a reservation was refused: the account is gone, or the quota of files or of bytes. */
  private async refusal(ownerId: string, bytes: number, trx: Knex.Transaction): Promise<AppError> {
    const owner = await this.deps.owners.find(ownerId, { db: trx });
    if (!owner || owner.deletedAt) return accountGone();
    if (owner.files + 1 > this.quota.files) return quotaExceeded('files', owner, this.quota);
    return quotaExceeded('bytes', { files: owner.files, bytes: owner.bytes + bytes }, this.quota);
  }

  /**
   * Removes a failed upload: its objects (whichever were stored), then its row and its room in the
   * quota. When the store is down its objects stay, with no row: the sweep removes them later.
   */
  private async abandon(pending: MediaRecord, cause: unknown): Promise<void> {
    try {
      await this.deps.store.delete(objectKeys(pending.id));
    } catch (error) {
      this.deps.metrics.objectDeleteFailures.inc(VARIANTS.length);
      this.deps.logger.warn(
        { err: error, media_id: pending.id },
        'a failed upload’s objects could not be deleted; the sweep will remove them',
      );
    }
    try {
      await this.deps.knex.transaction(async (trx) => {
        await this.deps.owners.lock(pending.ownerId, trx);
        const removed = await this.deps.media.delete(pending.id, trx, 'pending');
        if (removed) await this.deps.owners.release(removed.ownerId, { files: 1, bytes: removed.storedBytes }, trx);
      });
    } catch (error) {
      this.deps.logger.warn(
        { err: error, cause, media_id: pending.id },
        'a failed upload’s row could not be removed; the sweep will remove it',
      );
    }
  }

  /** An image of the actor's; anyone else's is not found (404, never 403). */
  async read(actor: Actor, id: string): Promise<MediaRecord> {
    const media = await this.deps.media.findReady(id, actor.id);
    if (!media) throw mediaNotFound();
    return media;
  }

  /** The actor's images, newest first. */
  async list(actor: Actor, page: PageRequest): Promise<KeysetPage<MediaRecord>> {
    const after = page.cursor ? decodeMediaCursor(page.cursor) : undefined;
    const found = await this.deps.media.listByOwner(actor.id, rowsToRead(page.limit), after);
    return keysetPage(found.rows, page.limit, (media, index) => mediaPosition(found.sortValues[index]!, media.id));
  }

  /** What the actor keeps (uploads in progress included) and may keep. */
  async usage(actor: Actor): Promise<{ usage: Usage; quota: Usage }> {
    const owner = await this.deps.owners.find(actor.id);
    if (owner?.deletedAt) throw accountGone();
    return { usage: { files: owner?.files ?? 0, bytes: owner?.bytes ?? 0 }, quota: this.quota };
  }

  /** A variant of the actor's image, to stream. */
  async download(actor: Actor, id: string, variant: Variant): Promise<Download> {
    const media = await this.read(actor, id);
    return this.open(media, variant);
  }

  private async open(media: MediaRecord, variant: Variant): Promise<Download> {
    const object = await this.deps.store.get(objectKey(media.id, variant));
    // Deleted between the row's read and the object's.
    if (!object) throw mediaNotFound();
    return { media, variant: media.variants[variant], object };
  }

  /** A URL that reads a variant of the actor's image without a token, for `presignSeconds`. */
  async presign(actor: Actor, id: string, variant: Variant): Promise<{ url: string; expiresAt: Date; variant: StoredVariant }> {
    const media = await this.read(actor, id);
    const seconds = this.deps.presignSeconds;
    const expiresAt = new Date((Math.floor(Date.now() / 1_000) + seconds) * 1_000);
    const url = await this.deps.store.presign(objectKey(id, variant), seconds, { contentType: media.variants[variant].contentType });
    return { url, expiresAt, variant: media.variants[variant] };
  }

  /**
   * A download through a signed URL of the disk store: the signature is the permission, checked
   * first; then its expiry. With S3 the store serves its own presigned URLs and this finds nothing.
   */
  async downloadSigned(query: { key: string; expires: number; signature: string }): Promise<Download> {
    const { store } = this.deps;
    if (!(store instanceof DiskObjectStore)) throw mediaNotFound();
    if (!store.signer.verify(query.key, query.expires, query.signature)) throw signatureInvalid();
    if (query.expires < Math.floor(Date.now() / 1_000)) throw urlExpired();
    const parsed = parseObjectKey(query.key);
    const media = parsed ? await this.deps.media.findReadyById(parsed.id) : undefined;
    if (!parsed || !media) throw mediaNotFound();
    return this.open(media, parsed.variant);
  }

  /** The actor's avatar. */
  async avatar(actor: Actor): Promise<Avatar> {
    const id = await this.deps.owners.avatarOf(actor.id);
    const media = id ? await this.deps.media.findReady(id, actor.id) : undefined;
    if (!media) throw avatarNotSet();
    return { media, path: avatarPath(media.id) };
  }

  /**
   * Makes an image of the actor's their avatar, with its `media.avatar_changed` event in the same
   * transaction; setting the one already set changes nothing and says nothing.
   */
  async setAvatar(actor: Actor, id: string): Promise<Avatar> {
    return this.deps.knex.transaction(async (trx) => {
      await this.deps.owners.lock(actor.id, trx);
      const media = await this.deps.media.findReady(id, actor.id, { db: trx, lock: true });
      if (!media) throw mediaNotFound();
      await this.changeAvatar(actor.id, id, trx);
      return { media, path: avatarPath(id) };
    });
  }

  /** The actor has no avatar any more (idempotent: none set is no change). */
  async clearAvatar(actor: Actor): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      await this.deps.owners.lock(actor.id, trx);
      await this.changeAvatar(actor.id, null, trx);
    });
  }

  private async changeAvatar(ownerId: string, mediaId: string | null, trx: Knex.Transaction): Promise<void> {
    const change = await this.deps.owners.setAvatar(ownerId, mediaId, trx);
    if (!change) return;
    await appendToOutbox(
      trx,
      mediaEvent('media.avatar_changed', ownerId, {
        media_id: mediaId,
        previous_media_id: change.previous,
        avatar_path: mediaId ? avatarPath(mediaId) : null,
        revision: change.revision,
      }),
    );
  }

  /** A variant of an image that is someone's avatar now: public, as profile pictures are. */
  async downloadAvatar(id: string, variant: Variant): Promise<Download> {
    const media = await this.deps.media.findAvatar(id);
    if (!media) throw mediaNotFound();
    return this.open(media, variant);
  }

  /**
   * Deletes an image of the actor's: its row, its room in the quota and its `media.deleted` event
   * (and, when it was the avatar, the avatar's clearing) in one transaction, then its objects. When
   * the store fails then, the image is gone all the same and its objects, which no row knows any
   * more, are removed by the sweep.
   */
  async delete(actor: Actor, id: string): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      await this.deps.owners.lock(actor.id, trx);
      const media = await this.deps.media.findReady(id, actor.id, { db: trx, lock: true });
      if (!media) throw mediaNotFound();
      if ((await this.deps.owners.avatarOf(actor.id, trx)) === id) await this.changeAvatar(actor.id, null, trx);
      await this.deps.media.delete(id, trx);
      await this.deps.owners.release(actor.id, { files: 1, bytes: media.storedBytes }, trx);
      await appendToOutbox(trx, mediaEvent('media.deleted', actor.id, { media_id: id }));
    });
    try {
      await this.deps.store.delete(objectKeys(id));
    } catch (error) {
      this.deps.metrics.objectDeleteFailures.inc(VARIANTS.length);
      this.deps.logger.warn({ err: error, media_id: id }, 'a deleted image’s objects could not be deleted; the sweep will remove them');
    }
  }
}
