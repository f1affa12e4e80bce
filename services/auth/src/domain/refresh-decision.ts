/** What the record of a presented refresh token says of it, before the account is looked at. */
export type RefreshVerdict =
  /** The session was ended (logout, password change, a reuse detected earlier). */
  | 'revoked'
  | 'expired'
  /** Never used: rotate it into a new pair. */
  | 'rotate'
  /** Used a moment ago (two tabs refreshing at once): hand out the same successor again, if it is still there. */
  | 'within-grace'
  /** Used before, past the grace window: a stolen copy is likely; the whole family is revoked. */
  | 'reused';

/**
 * Refresh-token rotation's decision, on the token's own record: the order matters (a revoked or
 * expired token is refused whatever else holds), and a used token is only ever replayed within
 * the grace window.
 */
export const judgeRefreshToken = (
  record: { revokedAt: Date | null; expiresAt: Date; rotatedAt: Date | null },
  now: Date,
  graceSeconds: number,
): RefreshVerdict => {
  if (record.revokedAt) return 'revoked';
  if (record.expiresAt <= now) return 'expired';
  if (!record.rotatedAt) return 'rotate';
  return now.getTime() - record.rotatedAt.getTime() <= graceSeconds * 1000 ? 'within-grace' : 'reused';
};
