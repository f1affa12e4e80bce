import type { Knex } from '@galion/kit';
import type { Role } from '@galion/tokens';

export type AccountStatus = 'active' | 'disabled';

export interface Account {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: AccountStatus;
  passwordHash: string;
  emailVerifiedAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface AccountRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: AccountStatus;
  password_hash: string;
  email_verified_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  status: row.status,
  passwordHash: row.password_hash,
  emailVerifiedAt: row.email_verified_at,
  lastLoginAt: row.last_login_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const ACCOUNTS_EMAIL_UNIQUE = 'accounts_email_unique';

/** Credentials and identity of users. `db` is the pool or a transaction. */
export class AccountRepository {
  constructor(private readonly knex: Knex) {}

  async findByEmail(email: string, db: Knex = this.knex): Promise<Account | undefined> {
    const row = await db<AccountRow>('accounts').where({ email }).first();
    return row ? toAccount(row) : undefined;
  }

  async findById(id: string, db: Knex = this.knex): Promise<Account | undefined> {
    const row = await db<AccountRow>('accounts').where({ id }).first();
    return row ? toAccount(row) : undefined;
  }

  async insert(
    account: { id: string; email: string; name: string; role: Role; passwordHash: string },
    db: Knex = this.knex,
  ): Promise<Account> {
    const [row] = await db<AccountRow>('accounts')
      .insert({ id: account.id, email: account.email, name: account.name, role: account.role, password_hash: account.passwordHash })
      .returning('*');
    return toAccount(row as AccountRow);
  }

  async update(
    id: string,
    changes: Partial<{
      passwordHash: string;
      role: Role;
      status: AccountStatus;
      lastLoginAt: Date;
      name: string;
      email: string;
      emailVerifiedAt: Date;
    }>,
    db: Knex = this.knex,
  ): Promise<void> {
    const columns: Partial<AccountRow> = {};
    if (changes.passwordHash !== undefined) columns.password_hash = changes.passwordHash;
    if (changes.role !== undefined) columns.role = changes.role;
    if (changes.status !== undefined) columns.status = changes.status;
    if (changes.lastLoginAt !== undefined) columns.last_login_at = changes.lastLoginAt;
    if (changes.name !== undefined) columns.name = changes.name;
    if (changes.email !== undefined) columns.email = changes.email;
    if (changes.emailVerifiedAt !== undefined) columns.email_verified_at = changes.emailVerifiedAt;
    await db('accounts')
      .where({ id })
      .update({ ...columns, updated_at: db.fn.now() });
  }

  async delete(id: string, db: Knex = this.knex): Promise<boolean> {
    return (await db('accounts').where({ id }).delete()) > 0;
  }
}
