import { appendToOutbox, createEvent, type EventData, type EventEnvelope, type EventType } from '@galion/events';
import { conflict, notFound, type Knex } from '@galion/kit';
import { decodeCursor, keysetPage, rowsToRead, type KeysetPage } from '@galion/pagination';
import type { AccessClaims } from '@galion/tokens';
import type { Follow, FollowDirection, FollowedProfile, FollowRepository } from '../repositories/follows.js';
import type { ProfileRepository } from '../repositories/profiles.js';
import { followRefusal } from './follow-rules.js';
import { timestampOrder } from './timestamps.js';
import { seesProfile, type Viewer } from './visibility.js';

export type { Follow, FollowDirection } from '../repositories/follows.js';

/** A profile in a list of follows, as the viewer may see it: name and avatar only if they may see the profile. */
export interface FollowEntry {
  id: string;
  /** Null when the viewer may not see this profile (private or deactivated). */
  name: string | null;
  avatarUrl: string | null;
  followedAt: Date;
}

/** A page of a list as the caller asks for it: `limit` entries after `cursor`, the next_cursor of the previous page. */
export interface FollowPageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface FollowServiceDeps {
  knex: Knex;
  follows: FollowRepository;
  profiles: ProfileRepository;
  /** Makes sure the caller has a profile (created from auth's account if the registration event is late). */
  ensureProfile(claims: AccessClaims, bearerToken: string): Promise<unknown>;
}

const SOURCE = 'users';
const cannotFollowSelf = () => conflict('cannot_follow_self', 'You cannot follow yourself.');
const userNotFound = () => notFound('No such user.', 'user_not_found');

const entryFor = (viewer: Viewer, profile: FollowedProfile): FollowEntry => {
  const visible = seesProfile(viewer, profile);
  return {
    id: profile.id,
    name: visible ? profile.name : null,
    avatarUrl: visible ? profile.avatarUrl : null,
    followedAt: profile.followedAt,
  };
};

/**
 * Follows between profiles, free of HTTP (docs/users.md, "Follows"). Each change and its event
 * (`user.followed`, `user.unfollowed`, subject the follower) commit together, and only a change
 * writes one: following twice stores one follow and one event.
 */
export class FollowService {
  constructor(private readonly deps: FollowServiceDeps) {}

  /** The caller follows `followeeId`: an active user other than themself. Idempotent: the first follow is kept. */
  async follow(claims: AccessClaims, bearerToken: string, followeeId: string): Promise<Follow> {
    if (claims.sub === followeeId) throw cannotFollowSelf();
    await this.deps.ensureProfile(claims, bearerToken);
    return this.deps.knex.transaction(async (trx) => {
      // Both profiles are share-locked: neither can be deleted or deactivated before this commits.
      const locked = await this.deps.profiles.lockShared([claims.sub, followeeId], trx);
      if (!locked.has(claims.sub)) throw notFound('This account no longer exists.', 'account_not_found');
      const refusal = followRefusal(claims.sub, followeeId, locked.get(followeeId));
      if (refusal === 'self') throw cannotFollowSelf();
      if (refusal === 'not_found') throw userNotFound();
      const { follow, created } = await this.deps.follows.insertIfAbsent(claims.sub, followeeId, trx);
      if (created) await appendToOutbox(trx, this.event('user.followed', claims.sub, { followee_id: followeeId }));
      return follow;
    });
  }

  /** The caller no longer follows `followeeId`, whoever that is (nothing to undo is not an error). Idempotent. */
  async unfollow(claims: AccessClaims, followeeId: string): Promise<void> {
    await this.deps.knex.transaction(async (trx) => {
      if (await this.deps.follows.delete(claims.sub, followeeId, trx)) {
        await appendToOutbox(trx, this.event('user.unfollowed', claims.sub, { followee_id: followeeId }));
      }
    });
  }

  /** The caller's follow of `followeeId`; 404 not_following when there is none. */
  async followOf(claims: AccessClaims, followeeId: string): Promise<Follow> {
    const follow = await this.deps.follows.find(claims.sub, followeeId);
    if (!follow) throw notFound('You do not follow this user.', 'not_following');
    return follow;
  }

  /**
   * A page of `id`'s followers or of whom they follow, newest follow first. Only for those who may
   * see the profile (self, admins, anyone if it is public and active); 404 user_not_found otherwise.
   */
  async list(viewer: Viewer, id: string, direction: FollowDirection, request: FollowPageRequest): Promise<KeysetPage<FollowEntry>> {
    const profile = await this.deps.profiles.findById(id);
    if (!profile || !seesProfile(viewer, profile)) throw userNotFound();
    const after = request.cursor ? decodeCursor(request.cursor, timestampOrder) : undefined;
    const found = await this.deps.follows.list({
      direction,
      userId: id,
      limit: rowsToRead(request.limit),
      after: after && { followedAt: after.values[0]!, id: after.id },
    });
    const page = keysetPage(found.profiles, request.limit, (entry, index) => ({ values: [found.sortValues[index]!], id: entry.id }));
    return { items: page.items.map((entry) => entryFor(viewer, entry)), nextCursor: page.nextCursor };
  }

  private event<T extends EventType>(type: T, subject: string, data: EventData<T>): EventEnvelope<T> {
    return createEvent(type, { source: SOURCE, subject, data });
  }
}
