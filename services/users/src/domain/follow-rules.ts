/** Why a follow is refused: oneself, or no one to follow (unknown, deleted or deactivated: all alike, so none leaks). */
export type FollowRefusal = 'self' | 'not_found';

/**
 * Whether `followerId` may follow the profile `followee` (undefined when there is none): anyone
 * may follow anyone active but themself. Following subscribes to someone's published posts, which
 * are public, so a private profile can be followed too; it only hides its details and lists.
 */
export const followRefusal = (
  followerId: string,
  followeeId: string,
  followee: { active: boolean } | undefined,
): FollowRefusal | undefined => {
  if (followerId === followeeId) return 'self';
  if (!followee?.active) return 'not_found';
  return undefined;
};
