/** A change an admin makes to a user, or the user's deletion. */
export type AdminChange = { role?: 'user' | 'admin'; active?: boolean } | 'delete';

/** Whether the change takes an active admin out of the active admins: demoted, deactivated or deleted. */
export const removesAnActiveAdmin = (current: { role: string; active: boolean }, change: AdminChange): boolean =>
  current.role === 'admin' && current.active && (change === 'delete' || change.role === 'user' || change.active === false);

/**
 * The last-admin rule: a change that removes an active admin is refused when that admin is the
 * only one left, so the platform always keeps someone who can manage it.
 */
export const leavesNoActiveAdmin = (activeAdminIds: readonly string[], id: string): boolean =>
  activeAdminIds.includes(id) && activeAdminIds.length <= 1;
