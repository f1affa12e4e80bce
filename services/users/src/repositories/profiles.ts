import type { Knex } from '@galion/kit';
import type { Role } from '@galion/tokens';

export interface Profile {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  bio: string | null;
  avatarUrl: string | null;
  locale: string | null;
  timezone: string | null;
  preferences: Record<string, unknown>;
  isPublic: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface ProfileRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  bio: string | null;
  avatar_url: string | null;
  locale: string | null;
  timezone: string | null;
  preferences: Record<string, unknown>;
  is_public: boolean;
  created_at: Date;
  updated_at: Date;
}

const toProfile = (row: ProfileRow): Profile => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  active: row.active,
  bio: row.bio,
  avatarUrl: row.avatar_url,
  locale: row.locale,
  timezone: row.timezone,
  preferences: row.preferences,
  isPublic: row.is_public,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export type ProfileChanges = Partial<
  Pick<Profile, 'name' | 'email' | 'role' | 'active' | 'bio' | 'avatarUrl' | 'locale' | 'timezone' | 'preferences' | 'isPublic'>
>;

const COLUMNS: Record<keyof ProfileChanges, keyof ProfileRow> = {
  name: 'name',
  email: 'email',
  role: 'role',
  active: 'active',
  bio: 'bio',
  avatarUrl: 'avatar_url',
  locale: 'locale',
  timezone: 'timezone',
  preferences: 'preferences',
  isPublic: 'is_public',
};

/** A change of a user's avatar in the media service (media.avatar_changed). */
export interface MediaAvatarChange {
  /** The new avatar's image, or null when it was cleared. */
  mediaId: string | null;
  previousMediaId: string | null;
  path: string | null;
  revision: number;
}

export type SortField = 'created_at' | 'name' | 'email';

export interface SearchQuery {
  prefix?: string;
  role?: Role;
  active?: boolean;
  sort: SortField;
  direction: 'asc' | 'desc';
  limit: number;
  after?: { value: string; id: string };
}

const sortExpression: Record<SortField, string> = {
  created_at: 'created_at',
  name: 'lower(name)',
  email: 'lower(email)',
};

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (char) => `\\${char}`);

/** Profiles, and the tombstones of deleted users. `db` is the pool or a transaction. */
export class ProfileRepository {
  constructor(private readonly knex: Knex) {}

  async findById(id: string, db: Knex = this.knex): Promise<Profile | undefined> {
    const row = await db<ProfileRow>('profiles').where({ id }).first();
    return row ? toProfile(row) : undefined;
  }

  /** Inserts a profile unless one exists; returns the stored profile either way. */
  async insertIfAbsent(
    profile: { id: string; email: string; name: string; role: Role },
    db: Knex = this.knex,
  ): Promise<{ profile: Profile; created: boolean }> {
    const [inserted] = await db<ProfileRow>('profiles').insert(profile).onConflict('id').ignore().returning('*');
    if (inserted) return { profile: toProfile(inserted), created: true };
    return { profile: (await this.findById(profile.id, db))!, created: false };
  }

  async update(id: string, changes: ProfileChanges, db: Knex = this.knex): Promise<Profile | undefined> {
    const columns: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      const column = COLUMNS[field as keyof ProfileChanges];
      columns[column] = column === 'preferences' ? JSON.stringify(value) : value;
    }
    // An avatar URL set by hand is no media image: clearing that image later leaves it alone.
    if (changes.avatarUrl !== undefined) columns.avatar_media_id = null;
    const [row] = await db<ProfileRow>('profiles')
      .where({ id })
      .update({ ...columns, updated_at: db.fn.now() } as never)
      .returning('*');
    return row ? toProfile(row) : undefined;
  }

  /**
   * Applies a change of the avatar made in the media service, unless a newer one was applied: a new
   * image sets the URL; a cleared one removes it only if it still comes from that image. True when
   * the profile changed.
   */
  async applyMediaAvatar(id: string, change: MediaAvatarChange, db: Knex = this.knex): Promise<boolean> {
    const update = change.mediaId
      ? { avatar_url: change.path, avatar_media_id: change.mediaId }
      : {
          avatar_url: db.raw('CASE WHEN avatar_media_id = ? THEN NULL ELSE avatar_url END', [change.previousMediaId]),
          avatar_media_id: db.raw('CASE WHEN avatar_media_id = ? THEN NULL ELSE avatar_media_id END', [change.previousMediaId]),
        };
    const updated = await db('profiles')
      .where({ id })
      .where('avatar_revision', '<', change.revision)
      .update({ ...update, avatar_revision: change.revision, updated_at: db.fn.now() });
    return updated > 0;
  }

  /** Deletes the profile and leaves a tombstone; false when there was no profile. */
  async delete(id: string, db: Knex = this.knex): Promise<boolean> {
    const deleted = await db('profiles').where({ id }).delete();
    await db('deleted_users').insert({ id }).onConflict('id').ignore();
    return deleted > 0;
  }

  async isDeleted(id: string, db: Knex = this.knex): Promise<boolean> {
    return (await db('deleted_users').where({ id }).first()) !== undefined;
  }

  /**
   * Ids of the active admins, locked until the transaction ends (for the last-admin rule), with the
   * profile `changing` locked in the same statement.
   */
  async lockActiveAdmins(changing: string, trx: Knex.Transaction): Promise<string[]> {
    // All in one statement and in id order, as lockShared and lockAll lock: two transactions never
    // wait on each other in a circle (locking the admins first and the profile after did not keep
    // to the order when its id sorts before theirs).
    const rows = await trx<ProfileRow>('profiles')
      .where((where) => where.where({ role: 'admin', active: true }).orWhere({ id: changing }))
      .orderBy('id')
      .forUpdate()
      .select('id', 'role', 'active');
    return rows.filter((row) => row.role === 'admin' && row.active).map((row) => row.id);
  }

  /** Locks these profiles (those that exist) until the transaction ends, in id order. */
  async lockAll(ids: readonly string[], trx: Knex.Transaction): Promise<void> {
    if (ids.length === 0) return;
    await trx('profiles').whereIn('id', ids).orderBy('id').forUpdate().select('id');
  }

  /**
   * Whether each of these profiles is active (a missing one is absent from the answer), their rows
   * share-locked until the transaction ends: none can be deactivated or deleted meanwhile.
   */
  async lockShared(ids: readonly string[], trx: Knex.Transaction): Promise<Map<string, { active: boolean }>> {
    const rows = await trx<ProfileRow>('profiles').whereIn('id', ids).orderBy('id').forShare().select('id', 'active');
    return new Map(rows.map((row) => [row.id, { active: row.active }]));
  }

  async search(query: SearchQuery, db: Knex = this.knex): Promise<{ profiles: Profile[]; sortValues: string[] }> {
    const expression = sortExpression[query.sort];
    const comparator = query.direction === 'asc' ? '>' : '<';
    const rows: (ProfileRow & { sort_value: string })[] = await db<ProfileRow>('profiles')
      .modify((builder) => {
        if (query.prefix) {
          const pattern = `${escapeLike(query.prefix.toLowerCase())}%`;
          builder.where((where) => where.whereRaw('lower(email) LIKE ?', [pattern]).orWhereRaw('lower(name) LIKE ?', [pattern]));
        }
        if (query.role) builder.where('role', query.role);
        if (query.active !== undefined) builder.where('active', query.active);
        if (query.after) {
          // The cursor holds Postgres's own text of the value (microseconds included), cast back here.
          const type = query.sort === 'created_at' ? 'timestamptz' : 'text';
          builder.whereRaw(`(${expression}, id) ${comparator} (?::${type}, ?::uuid)`, [query.after.value, query.after.id]);
        }
      })
      .orderByRaw(`${expression} ${query.direction}, id ${query.direction}`)
      .limit(query.limit)
      .select('*', db.raw(`(${expression})::text AS sort_value`));
    return {
      profiles: rows.map(toProfile),
      sortValues: rows.map((row) => row.sort_value),
    };
  }
}
