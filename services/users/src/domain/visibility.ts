import type { AccessClaims } from '@galion/tokens';

/** Who is looking: the caller's id and role. */
export type Viewer = Pick<AccessClaims, 'sub' | 'role'>;

/** Self and admins see a profile whole, and its lists of follows, whatever its settings. */
export const seesWhole = (viewer: Viewer, id: string): boolean => viewer.sub === id || viewer.role === 'admin';

/**
 * Whether `viewer` may see a profile at all: whole (self, admins), or its public part (name, bio,
 * avatar, counts, lists of follows) when it is public and active. Of any other profile, others
 * learn nothing: GET /users/{id} and its lists answer 404, and a list it appears in names it by id only.
 */
export const seesProfile = (viewer: Viewer, profile: { id: string; isPublic: boolean; active: boolean }): boolean =>
  seesWhole(viewer, profile.id) || (profile.isPublic && profile.active);
