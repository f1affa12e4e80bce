import { randomBytes, randomUUID } from 'node:crypto';
import { notFound } from '@galion/kit';
import { BoundedMap } from '../bounded-map.js';
import type { SiteChanges, SiteRepository, TrackingSite } from '../repositories/sites.js';

export type { TrackingSite } from '../repositories/sites.js';

export const DEFAULT_EVENTS_PER_MINUTE = 6_000;
/** How long a replica trusts what it read about a key: a revocation or an origin change takes effect within this. */
export const SITE_CACHE_MS = 10_000;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `pk_` and 24 base62 characters (143 bits): publishable, so guessable only by brute force, and harmless to leak. */
export const newSiteKey = (): string => {
  let key = 'pk_';
  // 248 is the largest multiple of 62 below 256: rejecting larger bytes keeps every character equally likely.
  while (key.length < 27) for (const byte of randomBytes(32)) if (byte < 248 && key.length < 27) key += BASE62[byte % 62];
  return key;
};

const siteNotFound = () => notFound('No site has this id.', 'site_not_found');

/** The sites that send events with a publishable key: their management, and key look-ups for the tracking API. */
export class SiteRegistry {
  private readonly byKey = new BoundedMap<string, { site: TrackingSite | undefined; until: number }>(10_000);

  constructor(
    private readonly sites: SiteRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(input: { name: string; allowedOrigins: string[]; eventsPerMinute?: number | undefined }): Promise<TrackingSite> {
    return this.sites.insert({
      id: randomUUID(),
      key: newSiteKey(),
      name: input.name,
      allowedOrigins: [...new Set(input.allowedOrigins)],
      eventsPerMinute: input.eventsPerMinute ?? DEFAULT_EVENTS_PER_MINUTE,
    });
  }

  list(): Promise<TrackingSite[]> {
    return this.sites.list();
  }

  async get(id: string): Promise<TrackingSite> {
    return (await this.sites.byId(id)) ?? Promise.reject(siteNotFound());
  }

  async update(id: string, changes: SiteChanges): Promise<TrackingSite> {
    const site = await this.sites.update(id, {
      ...changes,
      ...(changes.allowedOrigins ? { allowedOrigins: [...new Set(changes.allowedOrigins)] } : {}),
    });
    if (!site) throw siteNotFound();
    this.byKey.delete(site.key);
    return site;
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.sites.revoke(id, this.now()))) throw siteNotFound();
    for (const [key, entry] of this.byKey) if (entry.site?.id === id) this.byKey.delete(key);
  }

  /** The live site of a key (unknown and revoked keys: undefined), cached for SITE_CACHE_MS. */
  async resolve(key: string): Promise<TrackingSite | undefined> {
    const now = Date.now();
    const cached = this.byKey.get(key);
    if (cached && cached.until > now) return cached.site;
    const found = await this.sites.byKey(key);
    const site = found && !found.revokedAt ? found : undefined;
    this.byKey.set(key, { site, until: now + SITE_CACHE_MS });
    return site;
  }
}
