import type { Knex } from '@galion/kit';

export interface Post {
  id: string;
  authorId: string;
  title: string;
  body: string;
  tags: string[];
  published: boolean;
  /** When the post was first published; kept when it goes back to draft. */
  publishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A post as lists show it: the start of its body instead of the whole. */
export interface PostSummary extends Omit<Post, 'body'> {
  excerpt: string;
}

/** A post found by search, with its rank (ts_rank_cd). */
export interface SearchHit extends PostSummary {
  rank: number;
}

/** Characters of the body a list shows. */
export const EXCERPT_LENGTH = 280;

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

export interface PostListQuery {
  authorId?: string;
  tag?: string;
  limit: number;
  after?: TimePosition;
}

export interface SearchQuery {
  language: string;
  /** Only the newest this many published matches are ranked. */
  rankedMatches: number;
  text: string;
  limit: number;
  after?: { rank: string; id: string };
}

export type PostChanges = Partial<Pick<Post, 'title' | 'body' | 'tags' | 'published'>> & { publishedAt?: 'now' };

interface PostRow {
  id: string;
  author_id: string;
  title: string;
  body: string;
  tags: string[];
  published: boolean;
  published_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

type SummaryRow = Omit<PostRow, 'body'> & { excerpt: string; sort_value: string };

/** A time as cursors hold it: UTC with microseconds, so a position round-trips exactly. */
export const timeText = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const POST_COLUMNS = ['id', 'author_id', 'title', 'body', 'tags', 'published', 'published_at', 'created_at', 'updated_at'];
const SUMMARY_COLUMNS = `id, author_id, title, left(body, ${EXCERPT_LENGTH}) AS excerpt, tags, published, published_at, created_at, updated_at`;

const toPost = (row: PostRow): Post => ({
  id: row.id,
  authorId: row.author_id,
  title: row.title,
  body: row.body,
  tags: row.tags,
  published: row.published,
  publishedAt: row.published_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toSummary = (row: SummaryRow): PostSummary => ({
  id: row.id,
  authorId: row.author_id,
  title: row.title,
  excerpt: row.excerpt,
  tags: row.tags,
  published: row.published,
  publishedAt: row.published_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Posts. `db` is the pool or a transaction. */
export class PostRepository {
  constructor(private readonly knex: Knex) {}

  async insert(
    post: { id: string; authorId: string; title: string; body: string; tags: string[]; published: boolean; searchLanguage: string },
    db: Knex = this.knex,
  ): Promise<Post> {
    const [row] = await db('posts')
      .insert({
        id: post.id,
        author_id: post.authorId,
        title: post.title,
        body: post.body,
        tags: post.tags,
        published: post.published,
        published_at: post.published ? db.raw('clock_timestamp()') : null,
        search_language: post.searchLanguage,
      })
      .returning(POST_COLUMNS);
    return toPost(row as PostRow);
  }

  /**
   * A post by id. `lock: 'update'` holds it against other changes until the transaction ends;
   * `'key share'` only against its deletion (a comment being added to it).
   */
  async findById(id: string, options: { db?: Knex; lock?: 'update' | 'key share' } = {}): Promise<Post | undefined> {
    const db = options.db ?? this.knex;
    const query = db<PostRow>('posts').where({ id }).first(POST_COLUMNS);
    if (options.lock === 'update') query.forUpdate();
    if (options.lock === 'key share') query.forKeyShare();
    const row = (await query) as PostRow | undefined;
    return row ? toPost(row) : undefined;
  }

  async update(id: string, changes: PostChanges, db: Knex): Promise<Post | undefined> {
    const columns: Record<string, unknown> = { updated_at: db.raw('clock_timestamp()') };
    if (changes.title !== undefined) columns.title = changes.title;
    if (changes.body !== undefined) columns.body = changes.body;
    if (changes.tags !== undefined) columns.tags = changes.tags;
    if (changes.published !== undefined) columns.published = changes.published;
    if (changes.publishedAt === 'now') columns.published_at = db.raw('clock_timestamp()');
    const [row] = await db('posts').where({ id }).update(columns).returning(POST_COLUMNS);
    return row ? toPost(row as PostRow) : undefined;
  }

  /** Deletes the post, and with it its comments (ON DELETE CASCADE); false when there was none. */
  async delete(id: string, db: Knex): Promise<boolean> {
    return (await db('posts').where({ id }).delete()) > 0;
  }

  /** Deletes every post of an author (their comments go with them); how many there were. */
  async deleteByAuthor(authorId: string, db: Knex): Promise<number> {
    return db('posts').where({ author_id: authorId }).delete();
  }

  /** Published posts, newest first by (published_at, id), strictly after `after`. */
  async listPublished(query: PostListQuery): Promise<SortedRows<PostSummary>> {
    const rows = (await this.knex('posts')
      .select(this.knex.raw(SUMMARY_COLUMNS), this.knex.raw(`${timeText('published_at')} AS sort_value`))
      .where('published', true)
      .modify((builder) => {
        if (query.authorId) builder.where('author_id', query.authorId);
        if (query.tag) builder.whereRaw('tags @> ARRAY[?]::text[]', [query.tag]);
        if (query.after) builder.whereRaw('(published_at, id) < (?::timestamptz, ?::uuid)', [query.after.time, query.after.id]);
      })
      .orderByRaw('published_at DESC, id DESC')
      .limit(query.limit)) as SummaryRow[];
    return { rows: rows.map(toSummary), sortValues: rows.map((row) => row.sort_value) };
  }

  /** One author's posts, drafts included, newest first by (created_at, id), strictly after `after`. */
  async listByAuthor(authorId: string, limit: number, after?: TimePosition): Promise<SortedRows<PostSummary>> {
    const rows = (await this.knex('posts')
      .select(this.knex.raw(SUMMARY_COLUMNS), this.knex.raw(`${timeText('created_at')} AS sort_value`))
      .where('author_id', authorId)
      .modify((builder) => {
        if (after) builder.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.time, after.id]);
      })
      .orderByRaw('created_at DESC, id DESC')
      .limit(limit)) as SummaryRow[];
    return { rows: rows.map(toSummary), sortValues: rows.map((row) => row.sort_value) };
  }

  /**
   * Published posts matching a web-search style query (websearch_to_tsquery), best first by
   * (ts_rank_cd, id), strictly after `after`, among the newest `rankedMatches` matches. The
   * bound lets the planner choose: a rare word is found through the GIN index, a common one by
   * walking the newest published posts (posts_published_idx) until enough match, and either
   * way at most `rankedMatches` rows are ranked. The rank's text (a real, which PostgreSQL
   * prints exactly) is each row's sort value.
   */
  async search(query: SearchQuery): Promise<SortedRows<SearchHit>> {
    const after = query.after ? 'WHERE (rank, id) < (?::real, ?::uuid)' : '';
    // Ranked in a subquery of its own over the bounded matches, and only the page's rows are
    // joined back for their columns: no body is read for a row that is not shown.
    const { rows } = await this.knex.raw<{ rows: (SummaryRow & { rank: number })[] }>(
      `SELECT ${SUMMARY_COLUMNS}, page.rank, page.rank::text AS sort_value
       FROM (
         SELECT id, rank FROM (
           SELECT id, ts_rank_cd(search_vector, query) AS rank FROM (
             SELECT id, search_vector, query
             FROM posts, websearch_to_tsquery(?::regconfig, ?) AS query
             WHERE published AND search_vector @@ query
             ORDER BY published_at DESC, id DESC
             LIMIT ?
           ) AS newest
         ) AS ranked
         ${after}
         ORDER BY rank DESC, id DESC
         LIMIT ?
       ) AS page
       JOIN posts USING (id)
       ORDER BY page.rank DESC, page.id DESC`,
      [query.language, query.text, query.rankedMatches, ...(query.after ? [query.after.rank, query.after.id] : []), query.limit],
    );
    return { rows: rows.map((row) => ({ ...toSummary(row), rank: row.rank })), sortValues: rows.map((row) => row.sort_value) };
  }

  /** Whether PostgreSQL has this text search configuration. */
  async hasTextSearchConfig(name: string): Promise<boolean> {
    const { rows } = await this.knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_ts_config WHERE cfgname = ?', [name]);
    return rows.length > 0;
  }

  async textSearchConfigs(): Promise<string[]> {
    const { rows } = await this.knex.raw<{ rows: { cfgname: string }[] }>('SELECT cfgname FROM pg_ts_config ORDER BY cfgname');
    return rows.map((row) => row.cfgname);
  }
}
