import type { Knex } from '@galion/kit';

/** What is stored of an image: the original, re-encoded, and three thumbnails. */
export const VARIANTS = ['original', 'small', 'medium', 'large'] as const;
export type Variant = (typeof VARIANTS)[number];

/** One stored object of an image. */
export interface StoredVariant {
  contentType: string;
  width: number;
  height: number;
  bytes: number;
  /** SHA-256 of the object's bytes, base64url: its ETag. */
  sha256: string;
}

export type MediaState = 'pending' | 'ready';

export interface MediaRecord {
  id: string;
  ownerId: string;
  state: MediaState;
  /** The original's type (its format, read from its bytes). */
  contentType: string;
  width: number;
  height: number;
  /** The original's bytes. */
  bytes: number;
  /** Every stored variant's bytes together: what the quota counts. */
  storedBytes: number;
  variants: Record<Variant, StoredVariant>;
  createdAt: Date;
  readyAt: Date | null;
}

/** A page of rows and, for each, the value it sorts by (after the id) as PostgreSQL renders it. */
export interface SortedRows<T> {
  rows: T[];
  sortValues: string[];
}

/** Where a page ends in a (time, id) order: the time as PostgreSQL renders it (microseconds, UTC), and the id. */
export interface TimePosition {
  time: string;
  id: string;
}

interface MediaRow {
  id: string;
  owner_id: string;
  state: MediaState;
  content_type: string;
  width: number;
  height: number;
  bytes: number;
  stored_bytes: number;
  variants: Record<Variant, { content_type: string; width: number; height: number; bytes: number; sha256: string }>;
  created_at: Date;
  ready_at: Date | null;
}

/** A time as cursors hold it: UTC with microseconds, so a position round-trips exactly. */
const timeText = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const COLUMNS = [
  'id',
  'owner_id',
  'state',
  'content_type',
  'width',
  'height',
  'bytes',
  'stored_bytes',
  'variants',
  'created_at',
  'ready_at',
];

const toRecord = (row: MediaRow): MediaRecord => ({
  id: row.id,
  ownerId: row.owner_id,
  state: row.state,
  contentType: row.content_type,
  width: row.width,
  height: row.height,
  bytes: row.bytes,
  storedBytes: row.stored_bytes,
  variants: Object.fromEntries(
    VARIANTS.map((variant) => {
      const stored = row.variants[variant];
      return [
        variant,
        { contentType: stored.content_type, width: stored.width, height: stored.height, bytes: stored.bytes, sha256: stored.sha256 },
      ];
    }),
  ) as Record<Variant, StoredVariant>,
  createdAt: row.created_at,
  readyAt: row.ready_at,
});

const variantsColumn = (variants: Record<Variant, StoredVariant>): string =>
  JSON.stringify(
    Object.fromEntries(
      VARIANTS.map((variant) => {
        const { contentType, width, height, bytes, sha256 } = variants[variant];
        return [variant, { content_type: contentType, width, height, bytes, sha256 }];
      }),
    ),
  );

export interface NewMedia {
  id: string;
  ownerId: string;
  contentType: string;
  width: number;
  height: number;
  bytes: number;
  storedBytes: number;
  variants: Record<Variant, StoredVariant>;
}

/** Images. `db` is the pool or a transaction. */
export class MediaRepository {
  constructor(private readonly knex: Knex) {}

  /** The row of an upload about to store its objects: `pending`. */
  async insertPending(media: NewMedia, trx: Knex.Transaction): Promise<MediaRecord> {
    const [row] = await trx('media')
      .insert({
        id: media.id,
        owner_id: media.ownerId,
        state: 'pending',
        content_type: media.contentType,
        width: media.width,
        height: media.height,
        bytes: media.bytes,
        stored_bytes: media.storedBytes,
        variants: variantsColumn(media.variants),
      })
      .returning(COLUMNS);
    return toRecord(row as MediaRow);
  }

  /** A pending upload becomes `ready`; undefined when its row is gone (swept, or its owner erased). */
  async markReady(id: string, trx: Knex.Transaction): Promise<MediaRecord | undefined> {
    const [row] = await trx('media')
      .where({ id, state: 'pending' })
      .update({ state: 'ready', ready_at: trx.raw('clock_timestamp()') })
      .returning(COLUMNS);
    return row ? toRecord(row as MediaRow) : undefined;
  }

  /** A ready image of this owner; `lock` holds it against a concurrent deletion until the transaction ends. */
  async findReady(id: string, ownerId: string, options: { db?: Knex; lock?: boolean } = {}): Promise<MediaRecord | undefined> {
    const query = (options.db ?? this.knex)<MediaRow>('media').where({ id, owner_id: ownerId, state: 'ready' }).first(COLUMNS);
    if (options.lock) query.forUpdate();
    const row = (await query) as MediaRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** A ready image, whoever owns it (a signed URL's, whose signature is the permission). */
  async findReadyById(id: string): Promise<MediaRecord | undefined> {
    const row = (await this.knex<MediaRow>('media').where({ id, state: 'ready' }).first(COLUMNS)) as MediaRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** A ready image that is its owner's avatar now (the public read of a profile picture). */
  async findAvatar(id: string): Promise<MediaRecord | undefined> {
    const row = (await this.knex('media as m')
      .join('media_owners as o', 'o.avatar_id', 'm.id')
      .where({ 'm.id': id, 'm.state': 'ready' })
      .whereNull('o.deleted_at')
      .first(COLUMNS.map((column) => `m.${column}`))) as MediaRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Deletes the row (in any state); the deleted record, or undefined when there was none. */
  async delete(id: string, trx: Knex.Transaction, state?: MediaState): Promise<MediaRecord | undefined> {
    const [row] = await trx('media')
      .where({ id, ...(state ? { state } : {}) })
      .delete()
      .returning(COLUMNS);
    return row ? toRecord(row as MediaRow) : undefined;
  }

  /** One owner's ready images, newest first by (created_at, id), strictly after `after`. */
  async listByOwner(ownerId: string, limit: number, after?: TimePosition): Promise<SortedRows<MediaRecord>> {
    const rows = (await this.knex('media')
      .select([...COLUMNS, this.knex.raw(`${timeText('created_at')} AS sort_value`)])
      .where({ owner_id: ownerId, state: 'ready' })
      .modify((builder) => {
        if (after) builder.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.time, after.id]);
      })
      .orderByRaw('created_at DESC, id DESC')
      .limit(limit)) as (MediaRow & { sort_value: string })[];
    return { rows: rows.map(toRecord), sortValues: rows.map((row) => row.sort_value) };
  }

  /** Uploads still pending after `graceMs`: abandoned (their process died, or their store failed and cleaning up did too). */
  async abandoned(graceMs: number, limit: number): Promise<MediaRecord[]> {
    const rows = (await this.knex('media')
      .where('state', 'pending')
      .whereRaw('created_at < clock_timestamp() - make_interval(secs => ?)', [graceMs / 1_000])
      .orderBy('created_at')
      .limit(limit)
      .select(COLUMNS)) as MediaRow[];
    return rows.map(toRecord);
  }

  /** Which of these ids have a row, in any state. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = (await this.knex('media').whereIn('id', ids).select('id')) as { id: string }[];
    return new Set(rows.map((row) => row.id));
  }

  /** Every image of an owner, in any state. */
  async ofOwner(ownerId: string, db: Knex = this.knex): Promise<MediaRecord[]> {
    const rows = (await db('media').where({ owner_id: ownerId }).select(COLUMNS)) as MediaRow[];
    return rows.map(toRecord);
  }

  /** Deletes every row of an owner; how many there were. */
  async deleteByOwner(ownerId: string, trx: Knex.Transaction): Promise<number> {
    return trx('media').where({ owner_id: ownerId }).delete();
  }
}
