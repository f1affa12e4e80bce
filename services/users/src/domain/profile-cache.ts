import type { KeyValueStore } from '@galion/kit';
import type { Profile } from '../repositories/profiles.js';

/** Profiles read by id, cached in the shared store; every change invalidates its entry. */
export class ProfileCache {
  constructor(
    private readonly store: KeyValueStore,
    private readonly ttlSeconds: number,
  ) {}

  private key(id: string) {
    return `users:profile:${id}`;
  }

  async get(id: string): Promise<Profile | undefined> {
    if (this.ttlSeconds === 0) return undefined;
    const cached = await this.store.get(this.key(id)).catch(() => null);
    if (!cached) return undefined;
    const value = JSON.parse(cached) as Profile & { createdAt: string; updatedAt: string };
    return { ...value, createdAt: new Date(value.createdAt), updatedAt: new Date(value.updatedAt) };
  }

  async set(profile: Profile): Promise<void> {
    if (this.ttlSeconds === 0) return;
    // A cache outage must not fail a read that the database already answered.
    await this.store.set(this.key(profile.id), JSON.stringify(profile), this.ttlSeconds * 1000).catch(() => undefined);
  }

  async invalidate(id: string): Promise<void> {
    await this.store.delete(this.key(id));
  }
}
