import type { Knex } from '@galion/kit';

/** What an owner keeps, as the quota counts it: their images (uploads in progress too) and the bytes stored for them. */
export interface Usage {
  files: number;
  bytes: number;
}

export interface Owner extends Usage {
  id: string;
  /** Set when the account was deleted (user.deleted): nothing is taken from them again. */
  deletedAt: Date | null;
}

/** A change of an owner's avatar: the one it replaced, and the owner's new avatar revision. */
export interface AvatarChange {
  previous: string | null;
  revision: number;
}

interface OwnerRow {
  id: string;
  files: number;
  bytes: number;
  deleted_at: Date | null;
}

const toOwner = (row: OwnerRow): Owner => ({ id: row.id, files: row.files, bytes: row.bytes, deletedAt: row.deleted_at });

/**
 * The owners' rows: their usage and their tombstone. An upload's reservation, a deletion and an
 * erasure each update the row, so they take turns on its lock.
 */
export class OwnerRepository {
  constructor(private readonly knex: Knex) {}

  async find(id: string, options: { db?: Knex; lock?: 'share' } = {}): Promise<Owner | undefined> {
    const query = (options.db ?? this.knex)<OwnerRow>('media_owners').where({ id }).first(['id', 'files', 'bytes', 'deleted_at']);
    if (options.lock === 'share') query.forShare();
    const row = (await query) as OwnerRow | undefined;
    return row ? toOwner(row) : undefined;
  }

  /**
   * Adds `usage` to the owner's when the result stays within `quota` and the account is not
   * deleted, in one statement (the row's lock orders concurrent reservations); the new usage, or
   * undefined when it was refused.
   */
  async reserve(id: string, usage: Usage, quota: Usage, trx: Knex.Transaction): Promise<Usage | undefined> {
    await trx('media_owners').insert({ id }).onConflict('id').ignore();
    const [row] = (await trx('media_owners')
      .where({ id })
      .whereNull('deleted_at')
      .whereRaw('files + ? <= ?', [usage.files, quota.files])
      .whereRaw('bytes + ? <= ?', [usage.bytes, quota.bytes])
      .update({ files: trx.raw('files + ?', [usage.files]), bytes: trx.raw('bytes + ?', [usage.bytes]) })
      .returning(['files', 'bytes'])) as Usage[];
    return row;
  }

  /** Takes `usage` off the owner's (an image deleted, or an upload that failed). */
  async release(id: string, usage: Usage, trx: Knex.Transaction): Promise<void> {
    await trx('media_owners')
      .where({ id })
      .update({ files: trx.raw('greatest(files - ?, 0)', [usage.files]), bytes: trx.raw('greatest(bytes - ?, 0)', [usage.bytes]) });
  }

  /** Leaves the tombstone, holding the row until the transaction ends; false when it was there already (the event came again). */
  async markDeleted(id: string, trx: Knex.Transaction): Promise<boolean> {
    await trx('media_owners').insert({ id }).onConflict('id').ignore();
    const marked = await trx('media_owners').where({ id }).whereNull('deleted_at').update({ deleted_at: trx.fn.now() }).returning('id');
    return marked.length > 0;
  }

  /** Holds the owner's row until the transaction ends (an erasure waits for the uploads and deletions in flight). */
  async lock(id: string, trx: Knex.Transaction): Promise<void> {
    await trx('media_owners').where({ id }).forUpdate().select('id');
  }

  /** The owner's avatar: the image id, or undefined when none is set. */
  async avatarOf(id: string, db: Knex = this.knex): Promise<string | undefined> {
    const row = (await db('media_owners').where({ id }).whereNull('deleted_at').first('avatar_id')) as
      | { avatar_id: string | null }
      | undefined;
    return row?.avatar_id ?? undefined;
  }

  /**
   * Makes `mediaId` (null: none) the owner's avatar, on a row the transaction holds; the avatar it
   * replaced and the new revision, or undefined when it was that already.
   */
  async setAvatar(id: string, mediaId: string | null, trx: Knex.Transaction): Promise<AvatarChange | undefined> {
    const row = (await trx('media_owners').where({ id }).first('avatar_id')) as { avatar_id: string | null } | undefined;
    const previous = row?.avatar_id ?? null;
    if (previous === mediaId) return undefined;
    const [updated] = (await trx('media_owners')
      .where({ id })
      .update({ avatar_id: mediaId, avatar_revision: trx.raw('avatar_revision + 1') })
      .returning('avatar_revision')) as { avatar_revision: string }[];
    return { previous, revision: Number(updated!.avatar_revision) };
  }

  /** An erased owner keeps nothing, an avatar neither. */
  async clear(id: string, trx: Knex.Transaction): Promise<void> {
    await trx('media_owners').where({ id }).update({ files: 0, bytes: 0, avatar_id: null });
  }
}
