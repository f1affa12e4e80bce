import { outboxInsertGuardedBy, type EventEnvelope } from '@galion/events';
import type { Knex } from '@galion/kit';

export interface SignIn {
  accountId: string;
  at: Date;
  /** The password's hash at the current cost, when the stored one was made at an older cost. */
  rehash?: string | undefined;
  /** The session's first refresh token (as a hash). */
  session: { id: string; familyId: string; tokenHash: string; expiresAt: Date };
  /** The events announcing it (`user.logged_in`). */
  events: EventEnvelope[];
}

/**
 * A login's writes: the account's last login (and a rehash), the session's first refresh token and
 * the outbox event, in one statement. A login is auth's most frequent write and every millisecond
 * of it is taken from the cores that hash passwords: one round trip in place of a transaction's
 * five (docs/performance.md). The statement changes nothing unless the account is still active,
 * so a deactivation that lands while the password is being checked is not overtaken.
 */
export class SignInRepository {
  constructor(private readonly knex: Knex) {}

  /** Writes the sign-in; false (nothing written) when the account is gone or no longer active. */
  async record(signIn: SignIn): Promise<boolean> {
    const outbox = outboxInsertGuardedBy('signed_in', signIn.events);
    const { session } = signIn;
    const result = await this.knex.raw<{ rows: { signed_in: number }[] }>(
      `WITH signed_in AS (
         UPDATE accounts
            SET last_login_at = ?, password_hash = COALESCE(?, password_hash), updated_at = now()
          WHERE id = ? AND status = 'active'
          RETURNING id
       ), session AS (
         INSERT INTO refresh_tokens (id, family_id, account_id, token_hash, expires_at)
         SELECT CAST(? AS uuid), CAST(? AS uuid), id, ?, CAST(? AS timestamptz) FROM signed_in
       ), announced AS (${outbox.sql})
       SELECT count(*)::int AS signed_in FROM signed_in`,
      [
        signIn.at,
        signIn.rehash ?? null,
        signIn.accountId,
        session.id,
        session.familyId,
        session.tokenHash,
        session.expiresAt,
        ...outbox.bindings,
      ],
    );
    return result.rows[0]!.signed_in === 1;
  }
}
