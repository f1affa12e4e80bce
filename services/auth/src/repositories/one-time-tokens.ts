import type { Knex } from '@galion/kit';

export type TokenPurpose = 'password_reset' | 'email_verification';

export interface OneTimeToken {
  id: string;
  accountId: string;
  purpose: TokenPurpose;
  expiresAt: Date;
  usedAt: Date | null;
}

/** Single-use tokens mailed to users (password reset, email verification), stored as hashes. */
export class OneTimeTokenRepository {
  constructor(private readonly knex: Knex) {}

  /** Stores a new token and retires the account's earlier unused ones for the same purpose. */
  async replace(
    token: { id: string; accountId: string; purpose: TokenPurpose; tokenHash: string; expiresAt: Date },
    db: Knex = this.knex,
  ): Promise<void> {
    await db('one_time_tokens')
      .where({ account_id: token.accountId, purpose: token.purpose })
      .whereNull('used_at')
      .update({ used_at: db.fn.now() });
    await db('one_time_tokens').insert({
      id: token.id,
      account_id: token.accountId,
      purpose: token.purpose,
      token_hash: token.tokenHash,
      expires_at: token.expiresAt,
    });
  }

  async findForUpdate(tokenHash: string, trx: Knex.Transaction): Promise<OneTimeToken | undefined> {
    const row = await trx('one_time_tokens').where({ token_hash: tokenHash }).forUpdate().first();
    return row
      ? { id: row.id, accountId: row.account_id, purpose: row.purpose, expiresAt: row.expires_at, usedAt: row.used_at }
      : undefined;
  }

  async markUsed(id: string, db: Knex = this.knex): Promise<void> {
    await db('one_time_tokens').where({ id }).update({ used_at: db.fn.now() });
  }
}
