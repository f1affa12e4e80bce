import { appendToOutbox, createEvent, type AfterCommit, type EventData, type EventEnvelope, type EventType } from '@galion/events';
import { conflict, forbidden, notFound, type Knex, type Logger } from '@galion/kit';
import { decodeCursor, keysetPage, rowsToRead, type CursorShape, type KeysetPage } from '@galion/pagination';
import type { AccessClaims, Denylist } from '@galion/tokens';
import type { FollowCounts, FollowRepository } from '../repositories/follows.js';
import type { Profile, ProfileChanges, ProfileRepository, SearchQuery } from '../repositories/profiles.js';
import type { AuthAccounts } from './auth-accounts.js';
import type { ProfileCache } from './profile-cache.js';
import { leavesNoActiveAdmin, removesAnActiveAdmin } from './admin-rules.js';
import { timestampOrder } from './timestamps.js';
import { seesProfile, seesWhole } from './visibility.js';

export type { Profile } from '../repositories/profiles.js';
export type { FollowCounts } from '../repositories/follows.js';

/** A profile as the API answers it: with its follow counts, counted when asked (never cached). */
export type CountedProfile = Profile & FollowCounts;

export type ProfilePatch = Pick<ProfileChanges, 'name' | 'bio' | 'avatarUrl' | 'locale' | 'timezone' | 'preferences' | 'isPublic'>;
export type AdminPatch = Pick<ProfileChanges, 'role' | 'active'>;

/** A search as the caller asks for it: `limit` profiles after `cursor`, the next_cursor of the previous page. */
export type ProfileSearch = Omit<SearchQuery, 'after'> & { cursor?: string | undefined };

/** Profiles sort by one value (created_at, name or email, as text), then id; created_at's must be a timestamp. */
const profileOrder = (sort: ProfileSearch['sort']): CursorShape => (sort === 'created_at' ? timestampOrder : { values: 1 });

export interface ProfileServiceDeps {
  knex: Knex;
  profiles: ProfileRepository;
  follows: FollowRepository;
  cache: ProfileCache;
  authAccounts: AuthAccounts | undefined;
  denylist: Denylist;
  logger: Logger;
  accessTokenTtlSeconds: number;
}

const SOURCE = 'users';
const lastAdmin = () => conflict('last_admin', 'This is the last active admin; make another admin first.');
const isAdmin = (claims: AccessClaims) => claims.role === 'admin';

/** What users does with profiles, free of HTTP. Changes and their events commit together. */
export class ProfileService {
  constructor(private readonly deps: ProfileServiceDeps) {}

  /** The caller's profile, with its counts; created from auth's account if the registration event has not arrived yet. */
  async me(claims: AccessClaims, bearerToken: string): Promise<CountedProfile> {
    return this.counted(await this.ensureProfile(claims, bearerToken));
  }

  /** The caller's profile; created from auth's account if the registration event has not arrived yet. */
  async ensureProfile(claims: AccessClaims, bearerToken: string): Promise<Profile> {
    const existing = await this.read(claims.sub);
    if (existing) return existing;
    if (await this.deps.profiles.isDeleted(claims.sub)) throw notFound('This account no longer exists.', 'account_not_found');
    if (!this.deps.authAccounts) throw notFound('No profile yet; it is created when registration is processed.', 'profile_not_found');
    const account = await this.deps.authAccounts.currentAccount(bearerToken);
    const { profile } = await this.deps.profiles.insertIfAbsent({
      id: claims.sub,
      email: account.email,
      name: account.name,
      role: account.role,
    });
    return profile;
  }

  /** A profile as `viewer` may see it: whole for self and admins, the public part if public and active, else 404. */
  async view(viewer: AccessClaims, id: string): Promise<{ profile: CountedProfile; whole: boolean }> {
    const profile = await this.read(id);
    if (!profile || !seesProfile(viewer, profile)) throw notFound('No such user.', 'user_not_found');
    return { profile: await this.counted(profile), whole: seesWhole(viewer, id) };
  }

  async updateMe(claims: AccessClaims, bearerToken: string, patch: ProfilePatch): Promise<CountedProfile> {
    await this.ensureProfile(claims, bearerToken);
    const changes = Object.keys(patch).filter((key) => patch[key as keyof ProfilePatch] !== undefined);
    if (changes.length === 0) return this.me(claims, bearerToken);
    const profile = await this.change(claims.sub, patch, (updated) =>
      this.event('user.updated', updated.id, { changes: changes.map(snakeCase), ...(patch.name ? { name: patch.name } : {}) }),
    );
    return this.counted(profile);
  }

  async adminUpdate(admin: AccessClaims, id: string, patch: AdminPatch): Promise<CountedProfile> {
    if (!isAdmin(admin)) throw forbidden('This needs the admin role.');
    const updated = await this.deps.knex.transaction(async (trx) => {
      const current = await this.deps.profiles.findById(id, trx);
      if (!current) throw notFound('No such user.', 'user_not_found');
      if (removesAnActiveAdmin(current, patch)) {
        if (leavesNoActiveAdmin(await this.deps.profiles.lockActiveAdmins(id, trx), id)) throw lastAdmin();
      }
      const changed = (['role', 'active'] as const).filter((field) => patch[field] !== undefined && patch[field] !== current[field]);
      if (changed.length === 0) return { profile: current, changed };
      const profile = (await this.deps.profiles.update(id, patch, trx))!;
      await appendToOutbox(trx, this.event('user.updated', id, { changes: changed, role: profile.role, active: profile.active }));
      return { profile, changed };
    });
    await this.deps.cache.invalidate(id);
    // Tokens carry the role and stand for an active user: make the user log in again.
    if (updated.changed.length > 0) await this.revokeTokens(id);
    return this.counted(updated.profile);
  }

  /**
   * Deletes the profile and its follows both ways (ON DELETE CASCADE), so every count drops at once;
   * `user.deleted` is the one event: a copy of the follows (the feed's) drops the user's from it.
   */
  async delete(actor: AccessClaims, id: string): Promise<void> {
    if (actor.sub !== id && !isAdmin(actor)) throw notFound('No such user.', 'user_not_found');
    await this.deps.knex.transaction(async (trx) => {
      const current = await this.deps.profiles.findById(id, trx);
      if (!current) throw notFound('No such user.', 'user_not_found');
      if (removesAnActiveAdmin(current, 'delete')) {
        if (leavesNoActiveAdmin(await this.deps.profiles.lockActiveAdmins(id, trx), id)) throw lastAdmin();
      }
      await this.deps.profiles.delete(id, trx);
      await appendToOutbox(trx, this.event('user.deleted', id, { deleted_by: actor.sub }));
    });
    await this.deps.cache.invalidate(id);
    await this.revokeTokens(id);
  }

  async search({ cursor, ...query }: ProfileSearch): Promise<KeysetPage<CountedProfile>> {
    const after = cursor ? decodeCursor(cursor, profileOrder(query.sort)) : undefined;
    const found = await this.deps.profiles.search({
      ...query,
      limit: rowsToRead(query.limit),
      after: after && { value: after.values[0]!, id: after.id },
    });
    const page = keysetPage(found.profiles, query.limit, (profile, index) => ({ values: [found.sortValues[index]!], id: profile.id }));
    const counts = await this.deps.follows.counts(page.items.map((profile) => profile.id));
    return { items: page.items.map((profile) => ({ ...profile, ...counts.get(profile.id)! })), nextCursor: page.nextCursor };
  }

  /**
   * Locks the profiles a batch of events is about, before any is applied: in id order, as every
   * transaction that locks several profiles does, where applying the events in their own order
   * would lock them in any order (and could deadlock with an admin's change, say).
   */
  async lockSubjects(events: readonly EventEnvelope[], db: Knex.Transaction): Promise<void> {
    const subjects = [...new Set(events.filter((event) => event.source !== SOURCE).map((event) => event.subject))];
    await this.deps.profiles.lockAll(subjects, db);
  }

  /**
   * Applies an event from another service (registrations, role or email changes made in auth,
   * avatars set in media); what to do once the transaction has committed.
   */
  async applyEvent(event: EventEnvelope, db: Knex): Promise<AfterCommit | undefined> {
    if (event.source === SOURCE) return undefined;
    if (event.type === 'user.registered') {
      if (await this.deps.profiles.isDeleted(event.subject, db)) return undefined;
      const data = event.data as EventData<'user.registered'>;
      const { created } = await this.deps.profiles.insertIfAbsent(
        { id: event.subject, email: data.email, name: data.name, role: data.role },
        db,
      );
      if (!created) await this.deps.profiles.update(event.subject, { email: data.email, role: data.role }, db);
    } else if (event.type === 'user.updated') {
      const data = event.data as EventData<'user.updated'>;
      await this.deps.profiles.update(event.subject, { role: data.role, active: data.active, email: data.email, name: data.name }, db);
    } else if (event.type === 'user.email_verified') {
      const data = event.data as EventData<'user.email_verified'>;
      await this.deps.profiles.update(event.subject, { email: data.email }, db);
    } else if (event.type === 'media.avatar_changed') {
      const data = event.data as EventData<'media.avatar_changed'>;
      const change = { mediaId: data.media_id, previousMediaId: data.previous_media_id, path: data.avatar_path, revision: data.revision };
      await this.deps.profiles.applyMediaAvatar(event.subject, change, db);
    } else {
      return undefined;
    }
    // Once committed: a read before then would put the old profile back in the cache.
    return () => this.deps.cache.invalidate(event.subject);
  }

  /** The profile with its follow counts, counted now: exact, so never taken from the cache. */
  private async counted(profile: Profile): Promise<CountedProfile> {
    const counts = await this.deps.follows.counts([profile.id]);
    return { ...profile, ...counts.get(profile.id)! };
  }

  private async read(id: string): Promise<Profile | undefined> {
    const cached = await this.deps.cache.get(id);
    if (cached) return cached;
    const profile = await this.deps.profiles.findById(id);
    if (profile) await this.deps.cache.set(profile);
    return profile;
  }

  private async change(id: string, changes: ProfileChanges, event: (profile: Profile) => EventEnvelope): Promise<Profile> {
    const profile = await this.deps.knex.transaction(async (trx) => {
      const updated = await this.deps.profiles.update(id, changes, trx);
      if (!updated) throw notFound('No such user.', 'user_not_found');
      await appendToOutbox(trx, event(updated));
      return updated;
    });
    await this.deps.cache.invalidate(id);
    return profile;
  }

  private revokeTokens(id: string): Promise<void> {
    return this.deps.denylist.revokeUser(id, Date.now() / 1000, this.deps.accessTokenTtlSeconds);
  }

  private event<T extends EventType>(type: T, subject: string, data: EventData<T>): EventEnvelope<T> {
    return createEvent(type, { source: SOURCE, subject, data });
  }
}

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (char) => `_${char.toLowerCase()}`);
