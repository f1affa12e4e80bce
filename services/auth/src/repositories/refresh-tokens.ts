import type { Knex } from '@galion/kit';

export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  accountId: string;
  tokenHash: string;
  expiresAt: Date;
  createdAt: Date;
  rotatedAt: Date | null;
  replacedBy: string | null;
  rotationNonce: string | null;
  revokedAt: Date | null;
}

interface RefreshTokenRow {
  id: string;
  family_id: string;
  account_id: string;
  token_hash: string;
  expires_at: Date;
  created_at: Date;
  rotated_at: Date | null;
  replaced_by: string | null;
  rotation_nonce: string | null;
  revoked_at: Date | null;
}

const toRecord = (row: RefreshTokenRow): RefreshTokenRecord => ({
  id: row.id,
  familyId: row.family_id,
  accountId: row.account_id,
  tokenHash: row.token_hash,
  expiresAt: row.expires_at,
  createdAt: row.created_at,
  rotatedAt: row.rotated_at,
  replacedBy: row.replaced_by,
  rotationNonce: row.rotation_nonce,
  revokedAt: row.revoked_at,
});

/** Refresh tokens (as hashes) and their families, one family per login session. */
export class RefreshTokenRepository {
  constructor(private readonly knex: Knex) {}

  async insert(
    token: { id: string; familyId: string; accountId: string; tokenHash: string; expiresAt: Date },
    db: Knex = this.knex,
  ): Promise<void> {
    await db('refresh_tokens').insert({
      id: token.id,
      family_id: token.familyId,
      account_id: token.accountId,
      token_hash: token.tokenHash,
      expires_at: token.expiresAt,
    });
  }

  /** Finds a token by hash and locks its row, so two refreshes of one token are serialised. */
  async findByHashForUpdate(tokenHash: string, trx: Knex.Transaction): Promise<RefreshTokenRecord | undefined> {
    const row = await trx<RefreshTokenRow>('refresh_tokens').where({ token_hash: tokenHash }).forUpdate().first();
    return row ? toRecord(row) : undefined;
  }

  async findById(id: string, db: Knex = this.knex): Promise<RefreshTokenRecord | undefined> {
    const row = await db<RefreshTokenRow>('refresh_tokens').where({ id }).first();
    return row ? toRecord(row) : undefined;
  }

  async markRotated(id: string, rotation: { replacedBy: string; nonce: string; at: Date }, db: Knex = this.knex): Promise<void> {
    await db('refresh_tokens')
      .where({ id })
      .update({ rotated_at: rotation.at, replaced_by: rotation.replacedBy, rotation_nonce: rotation.nonce });
  }

  async revokeFamily(familyId: string, db: Knex = this.knex): Promise<number> {
    return db('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  }

  async revokeAllOfAccount(accountId: string, db: Knex = this.knex): Promise<number> {
    return db('refresh_tokens').where({ account_id: accountId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  }

  /** Deletes tokens that expired more than `graceDays` ago; they can no longer matter. */
  async deleteExpired(olderThan: Date, db: Knex = this.knex): Promise<number> {
    return db('refresh_tokens').where('expires_at', '<', olderThan).delete();
  }
}
