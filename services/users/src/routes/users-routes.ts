import type { ApiRouter, ResponseLink } from '@galion/kit';
import { authOf, bearerToken } from '@galion/tokens';
import type { Request } from 'express';
import type { Follow, FollowDirection, FollowEntry, FollowService } from '../domain/follow-service.js';
import type { CountedProfile, ProfileService } from '../domain/profile-service.js';
import {
  AdminUpdateRequest,
  FollowList,
  FollowListQuery,
  FollowView,
  ProfileList,
  ProfileView,
  PublicProfileView,
  SearchQuery,
  UpdateMeRequest,
  UserIdParams,
} from '../schemas.js';

export const BASE = '/api/v1/users';
const tags = ['users'];

export const toView = (profile: CountedProfile) => ({
  id: profile.id,
  email: profile.email,
  name: profile.name,
  role: profile.role,
  active: profile.active,
  bio: profile.bio,
  avatar_url: profile.avatarUrl,
  locale: profile.locale,
  timezone: profile.timezone,
  preferences: profile.preferences,
  is_public: profile.isPublic,
  created_at: profile.createdAt.toISOString(),
  updated_at: profile.updatedAt.toISOString(),
  followers_count: profile.followersCount,
  following_count: profile.followingCount,
});

const toPublicView = (profile: CountedProfile) => ({
  id: profile.id,
  name: profile.name,
  bio: profile.bio,
  avatar_url: profile.avatarUrl,
  followers_count: profile.followersCount,
  following_count: profile.followingCount,
});

const toFollowView = (follow: Follow) => ({
  follower_id: follow.followerId,
  followee_id: follow.followeeId,
  followed_at: follow.followedAt.toISOString(),
});

const toEntryView = (entry: FollowEntry) => ({
  id: entry.id,
  name: entry.name,
  avatar_url: entry.avatarUrl,
  followed_at: entry.followedAt.toISOString(),
});

const tokenOf = (req: Request) => bearerToken(req.get('authorization')) ?? '';

const byUserId = { id: '$response.body#/id' };
/** What a profile's id serves next (as others see it, and its follows). */
const profileLinks: Record<string, ResponseLink> = {
  ReadProfile: { operation: `get ${BASE}/{id}`, parameters: byUserId },
  ReadFollowers: { operation: `get ${BASE}/{id}/followers`, parameters: byUserId },
  ReadFollowing: { operation: `get ${BASE}/{id}/following`, parameters: byUserId },
};

export const registerUsersRoutes = (api: ApiRouter, { profiles, follows }: { profiles: ProfileService; follows: FollowService }): void => {
  const gone = 'The account no longer exists or has no profile yet (account_not_found, profile_not_found, user_not_found)';

  api.route({
    method: 'get',
    path: `${BASE}/me`,
    summary: 'My profile (created on first access if needed)',
    tags,
    access: 'bearer',
    responses: { 200: { description: 'The profile', schema: ProfileView, links: profileLinks }, 404: gone },
    handler: async ({ req, res }) => ({ body: toView(await profiles.me(authOf(res), tokenOf(req))) }),
  });

  api.route({
    method: 'patch',
    path: `${BASE}/me`,
    summary: 'Update my profile',
    tags,
    access: 'bearer',
    body: UpdateMeRequest,
    responses: { 200: { description: 'The updated profile', schema: ProfileView }, 404: gone },
    handler: async ({ body, req, res }) => {
      const profile = await profiles.updateMe(authOf(res), tokenOf(req), {
        name: body.name,
        bio: body.bio,
        avatarUrl: body.avatar_url,
        locale: body.locale,
        timezone: body.timezone,
        preferences: body.preferences,
        isPublic: body.is_public,
      });
      return { body: toView(profile) };
    },
  });

  api.route({
    method: 'delete',
    path: `${BASE}/me`,
    summary: 'Delete my account',
    tags,
    access: 'bearer',
    responses: { 204: { description: 'Deleted' }, 404: gone, 409: 'The last active admin cannot be deleted (last_admin)' },
    handler: async ({ res }) => {
      const claims = authOf(res);
      await profiles.delete(claims, claims.sub);
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: BASE,
    summary: 'Search users (admin)',
    tags,
    access: { role: 'admin' },
    query: SearchQuery,
    responses: {
      200: { description: 'A page of profiles', schema: ProfileList },
      400: 'Invalid input (validation_failed), or a cursor this API did not give out (invalid_cursor)',
    },
    handler: async ({ query }) => {
      const page = await profiles.search({
        prefix: query.q,
        role: query.role,
        active: query.status === undefined ? undefined : query.status === 'active',
        sort: query.sort,
        direction: query.order,
        limit: query.limit,
        cursor: query.cursor,
      });
      return { body: { items: page.items.map(toView), next_cursor: page.nextCursor } };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}`,
    summary: 'A user: whole for self and admins, the public part of a public profile, else 404',
    tags,
    access: 'bearer',
    params: UserIdParams,
    responses: {
      200: { description: 'The profile', schema: ProfileView.or(PublicProfileView) },
      404: 'No such user, or one whose profile is not public (user_not_found)',
    },
    handler: async ({ params, res }) => {
      const { profile, whole } = await profiles.view(authOf(res), params.id);
      return { body: whole ? toView(profile) : toPublicView(profile) };
    },
  });

  api.route({
    method: 'patch',
    path: `${BASE}/{id}`,
    summary: 'Change role or active status (admin)',
    tags,
    access: { role: 'admin' },
    params: UserIdParams,
    body: AdminUpdateRequest,
    responses: {
      200: { description: 'The updated profile', schema: ProfileView },
      404: 'No such user (user_not_found)',
      409: 'The change would leave no active admin (last_admin)',
    },
    handler: async ({ params, body, res }) => ({ body: toView(await profiles.adminUpdate(authOf(res), params.id, body)) }),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/{id}`,
    summary: 'Delete a user (self or admin)',
    tags,
    access: 'bearer',
    params: UserIdParams,
    responses: {
      204: { description: 'Deleted' },
      404: 'No such user, or another user and the caller is not an admin (user_not_found)',
      409: 'The last active admin cannot be deleted (last_admin)',
    },
    handler: async ({ params, res }) => {
      await profiles.delete(authOf(res), params.id);
      return { status: 204 };
    },
  });

  // Follows (docs/users.md, "Follows"): the caller's follow of {id} is a resource of its own.
  api.route({
    method: 'put',
    path: `${BASE}/{id}/follow`,
    summary: 'Follow a user (idempotent: following again keeps the first follow and publishes nothing)',
    tags,
    access: 'bearer',
    params: UserIdParams,
    responses: {
      200: { description: 'The follow', schema: FollowView },
      404: 'No such user, or a deactivated one (user_not_found); or the caller’s own account is gone or has no profile yet (account_not_found, profile_not_found)',
      409: 'A user cannot follow themself (cannot_follow_self)',
    },
    handler: async ({ params, req, res }) => ({ body: toFollowView(await follows.follow(authOf(res), tokenOf(req), params.id)) }),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/{id}/follow`,
    summary: 'Stop following a user (idempotent: 204 whether or not the caller followed them)',
    tags,
    access: 'bearer',
    params: UserIdParams,
    responses: { 204: { description: 'The caller does not follow this user' } },
    handler: async ({ params, res }) => {
      await follows.unfollow(authOf(res), params.id);
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}/follow`,
    summary: 'Whether I follow a user: the follow, or 404',
    tags,
    access: 'bearer',
    params: UserIdParams,
    responses: {
      200: { description: 'The caller follows this user', schema: FollowView },
      404: 'The caller does not follow this user (not_following)',
    },
    handler: async ({ params, res }) => ({ body: toFollowView(await follows.followOf(authOf(res), params.id)) }),
  });

  const listRoute = (direction: FollowDirection, summary: string) =>
    api.route({
      method: 'get',
      path: `${BASE}/{id}/${direction}`,
      summary,
      tags,
      access: 'bearer',
      params: UserIdParams,
      query: FollowListQuery,
      responses: {
        200: { description: 'A page, newest follow first', schema: FollowList },
        400: 'Invalid input (validation_failed), or a cursor this API did not give out (invalid_cursor)',
        404: 'No such user, or one whose profile the caller may not see: private or deactivated, and not self or admin (user_not_found)',
      },
      handler: async ({ params, query, res }) => {
        const page = await follows.list(authOf(res), params.id, direction, { limit: query.limit, cursor: query.cursor });
        return { body: { items: page.items.map(toEntryView), next_cursor: page.nextCursor } };
      },
    });
  listRoute('followers', 'Who follows a user, newest first (self, admins, or anyone if the profile is public)');
  listRoute('following', 'Whom a user follows, newest first (self, admins, or anyone if the profile is public)');
};
