import type { Knex } from '@galion/kit';

/** One user following another, since `followedAt`. */
export interface Follow {
  followerId: string;
  followeeId: string;
  followedAt: Date;
}

/** A profile at the other end of a follow, with what is needed to decide what a viewer may see of it. */
export interface FollowedProfile {
  id: string;
  name: string;
  avatarUrl: string | null;
  isPublic: boolean;
  active: boolean;
  followedAt: Date;
}

/** How many follow a user, and how many they follow. */
export interface FollowCounts {
  followersCount: number;
  followingCount: number;
}

/** The two lists of a user: who follows them, and whom they follow. */
export type FollowDirection = 'followers' | 'following';

export interface FollowListQuery {
  direction: FollowDirection;
  userId: string;
  limit: number;
  /** After this follow in the order (created_at desc, the other profile's id desc). */
  after?: { followedAt: string; id: string };
}

interface FollowRow {
  follower_id: string;
  followee_id: string;
  created_at: Date;
}

const toFollow = (row: FollowRow): Follow => ({ followerId: row.follower_id, followeeId: row.followee_id, followedAt: row.created_at });

// For each list, the column that names the user and the one that names the other end.
const COLUMNS: Record<FollowDirection, { user: string; other: string }> = {
  followers: { user: 'followee_id', other: 'follower_id' },
  following: { user: 'follower_id', other: 'followee_id' },
};

/** Follows between profiles. `db` is the pool or a transaction. */
export class FollowRepository {
  constructor(private readonly knex: Knex) {}

  /** Records the follow unless it exists; returns the stored one either way (its first time kept). */
  async insertIfAbsent(followerId: string, followeeId: string, trx: Knex.Transaction): Promise<{ follow: Follow; created: boolean }> {
    const [inserted] = await trx<FollowRow>('follows')
      .insert({ follower_id: followerId, followee_id: followeeId })
      .onConflict(['follower_id', 'followee_id'])
      .ignore()
      .returning('*');
    if (inserted) return { follow: toFollow(inserted), created: true };
    return { follow: (await this.find(followerId, followeeId, trx))!, created: false };
  }

  /** Removes the follow; false when there was none. */
  async delete(followerId: string, followeeId: string, trx: Knex.Transaction): Promise<boolean> {
    return (await trx('follows').where({ follower_id: followerId, followee_id: followeeId }).delete()) > 0;
  }

  async find(followerId: string, followeeId: string, db: Knex = this.knex): Promise<Follow | undefined> {
    const row = await db<FollowRow>('follows').where({ follower_id: followerId, followee_id: followeeId }).first();
    return row ? toFollow(row) : undefined;
  }

  /**
   * The counts of each id, counted on the indexes in one statement (so both are of one moment);
   * an id with no follows, or no profile, counts zero.
   */
  async counts(ids: readonly string[], db: Knex = this.knex): Promise<Map<string, FollowCounts>> {
    if (ids.length === 0) return new Map();
    const { rows } = await db.raw<{ rows: { id: string; followers: number; following: number }[] }>(
      `SELECT u.id,
              (SELECT count(*) FROM follows f WHERE f.followee_id = u.id)::int AS followers,
              (SELECT count(*) FROM follows f WHERE f.follower_id = u.id)::int AS following
         FROM unnest(?::uuid[]) AS u (id)`,
      // One parameter: pg sends the list as a PostgreSQL array.
      [[...ids]],
    );
    return new Map(rows.map((row) => [row.id, { followersCount: row.followers, followingCount: row.following }]));
  }

  /**
   * A page of one of a user's lists, newest follow first (then the other profile's id), read on
   * that list's index: the profiles and the text of each follow's time, for the cursor.
   */
  async list(query: FollowListQuery, db: Knex = this.knex): Promise<{ profiles: FollowedProfile[]; sortValues: string[] }> {
    const { user, other } = COLUMNS[query.direction];
    const rows: {
      id: string;
      name: string;
      avatar_url: string | null;
      is_public: boolean;
      active: boolean;
      created_at: Date;
      sort_value: string;
    }[] = await db('follows as f')
      .join('profiles as p', 'p.id', `f.${other}`)
      .where(`f.${user}`, query.userId)
      .modify((builder) => {
        // The cursor holds Postgres's own text of the time (microseconds included), cast back here.
        if (query.after)
          builder.whereRaw(`(f.created_at, f.${other}) < (?::timestamptz, ?::uuid)`, [query.after.followedAt, query.after.id]);
      })
      .orderBy([
        { column: 'f.created_at', order: 'desc' },
        { column: `f.${other}`, order: 'desc' },
      ])
      .limit(query.limit)
      .select('p.id', 'p.name', 'p.avatar_url', 'p.is_public', 'p.active', 'f.created_at', db.raw('f.created_at::text AS sort_value'));
    return {
      profiles: rows.map((row) => ({
        id: row.id,
        name: row.name,
        avatarUrl: row.avatar_url,
        isPublic: row.is_public,
        active: row.active,
        followedAt: row.created_at,
      })),
      sortValues: rows.map((row) => row.sort_value),
    };
  }
}
