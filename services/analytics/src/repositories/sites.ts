import type { Knex } from '@galion/kit';

/** A site that sends events with a publishable key. */
export interface TrackingSite {
  id: string;
  key: string;
  name: string;
  allowedOrigins: string[];
  eventsPerMinute: number;
  createdAt: Date;
  revokedAt: Date | null;
}

interface SiteRow {
  id: string;
  key: string;
  name: string;
  allowed_origins: string[];
  events_per_minute: number;
  created_at: Date;
  revoked_at: Date | null;
}

const toSite = (row: SiteRow): TrackingSite => ({
  id: row.id,
  key: row.key,
  name: row.name,
  allowedOrigins: row.allowed_origins,
  eventsPerMinute: row.events_per_minute,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export type SiteChanges = Partial<Pick<TrackingSite, 'name' | 'allowedOrigins' | 'eventsPerMinute'>>;

export class SiteRepository {
  constructor(private readonly knex: Knex) {}

  async insert(site: Omit<TrackingSite, 'createdAt' | 'revokedAt'>): Promise<TrackingSite> {
    const [row] = (await this.knex('tracking_sites')
      .insert({
        id: site.id,
        key: site.key,
        name: site.name,
        allowed_origins: site.allowedOrigins,
        events_per_minute: site.eventsPerMinute,
      })
      .returning('*')) as SiteRow[];
    return toSite(row!);
  }

  /** Every site, revoked ones included, oldest first. */
  async list(): Promise<TrackingSite[]> {
    return ((await this.knex('tracking_sites').select('*').orderBy([{ column: 'created_at' }, { column: 'id' }])) as SiteRow[]).map(toSite);
  }

  async byId(id: string): Promise<TrackingSite | undefined> {
    const row = (await this.knex('tracking_sites').where({ id }).first()) as SiteRow | undefined;
    return row ? toSite(row) : undefined;
  }

  async byKey(key: string): Promise<TrackingSite | undefined> {
    const row = (await this.knex('tracking_sites').where({ key }).first()) as SiteRow | undefined;
    return row ? toSite(row) : undefined;
  }

  async update(id: string, changes: SiteChanges): Promise<TrackingSite | undefined> {
    const [row] = (await this.knex('tracking_sites')
      .where({ id })
      .update({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.allowedOrigins !== undefined ? { allowed_origins: changes.allowedOrigins } : {}),
        ...(changes.eventsPerMinute !== undefined ? { events_per_minute: changes.eventsPerMinute } : {}),
      })
      .returning('*')) as SiteRow[];
    return row ? toSite(row) : undefined;
  }

  /** Revokes the key (the site and its events stay); true when the site exists. */
  async revoke(id: string, at: Date): Promise<boolean> {
    const [row] = (await this.knex('tracking_sites').where({ id }).update({ revoked_at: this.knex.raw('coalesce(revoked_at, ?)', [at]) }).returning('id')) as {
      id: string;
    }[];
    return row !== undefined;
  }
}
