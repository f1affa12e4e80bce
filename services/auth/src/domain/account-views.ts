import type { Account } from '../repositories/accounts.js';

/** What GET /me shows of an account. */
export type AccountView = Pick<Account, 'id' | 'email' | 'name' | 'role' | 'emailVerifiedAt' | 'createdAt'>;

export interface AccountViewSettings {
  /** Accounts kept at most (0: none, every read goes to the database). */
  maxEntries: number;
  /** Longest an account is kept. */
  maxAgeMs: number;
}

/**
 * The views of accounts that can no longer change what GET /me shows, kept in this process so a
 * read costs no database round trip. Auth never changes an email, a name or a creation time, and
 * a verified address stays verified, so only an active, verified account is kept; the role is
 * served only while the caller's token carries the same one (a role change revokes the user's
 * tokens). What ends an account — deletion, deactivation — revokes its tokens too, and the
 * denylist is asked on every request, so a kept view never answers for a deleted or disabled
 * account; an event applied here also drops its entry, and `maxAgeMs` bounds the rest.
 */
export class AccountViews {
  private readonly entries = new Map<string, { view: AccountView; until: number }>();

  constructor(
    private readonly settings: AccountViewSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The kept view of `id`, if it is fresh and shows `role`. */
  get(id: string, role: string): AccountView | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.view.role === role ? entry.view : undefined;
  }

  /** Keeps the view of an account just read, if nothing it shows can change any more. */
  remember(account: Account): void {
    if (this.settings.maxEntries === 0 || account.status !== 'active' || account.emailVerifiedAt === null) return;
    this.entries.delete(account.id);
    // The oldest entry goes first (a Map keeps insertion order).
    if (this.entries.size >= this.settings.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const { id, email, name, role, emailVerifiedAt, createdAt } = account;
    this.entries.set(id, { view: { id, email, name, role, emailVerifiedAt, createdAt }, until: this.now() + this.settings.maxAgeMs });
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
