import { AccountViews } from '../src/domain/account-views';
import type { Account } from '../src/repositories/accounts';

const account = (overrides: Partial<Account> = {}): Account => ({
  id: 'user-1',
  email: 'ada@example.com',
  name: 'Ada',
  role: 'user',
  status: 'active',
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  emailVerifiedAt: new Date('2026-01-02T00:00:00Z'),
  lastLoginAt: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-02T00:00:00Z'),
  ...overrides,
});

describe('the accounts GET /me answers from memory', () => {
  it('when an active, verified account was read, then its view is kept, without its password hash', () => {
    const views = new AccountViews({ maxEntries: 10, maxAgeMs: 60_000 });
    views.remember(account());
    const kept = views.get('user-1', 'user');
    expect(kept).toEqual({
      id: 'user-1',
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      emailVerifiedAt: new Date('2026-01-02T00:00:00Z'),
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(kept).not.toHaveProperty('passwordHash');
  });

  it('when the address is not verified yet, or the account is disabled, then nothing is kept (what /me shows could still change)', () => {
    const views = new AccountViews({ maxEntries: 10, maxAgeMs: 60_000 });
    views.remember(account({ id: 'unverified', emailVerifiedAt: null }));
    views.remember(account({ id: 'disabled', status: 'disabled' }));
    expect(views.get('unverified', 'user')).toBeUndefined();
    expect(views.get('disabled', 'user')).toBeUndefined();
  });

  it("when the caller's token carries another role than the kept view, then the view is not served", () => {
    const views = new AccountViews({ maxEntries: 10, maxAgeMs: 60_000 });
    views.remember(account({ role: 'user' }));
    expect(views.get('user-1', 'admin')).toBeUndefined();
    expect(views.get('user-1', 'user')).toBeDefined();
  });

  it('when the max age has passed, then the view is gone; a forgotten one too', () => {
    let now = 0;
    const views = new AccountViews({ maxEntries: 10, maxAgeMs: 60_000 }, () => now);
    views.remember(account());
    views.remember(account({ id: 'user-2' }));
    now = 59_999;
    expect(views.get('user-1', 'user')).toBeDefined();
    now = 60_000;
    expect(views.get('user-1', 'user')).toBeUndefined();
    views.forget('user-2');
    now = 0;
    expect(views.get('user-2', 'user')).toBeUndefined();
  });

  it('when the cache is full, then the oldest view goes first; with 0 entries, nothing is kept', () => {
    const views = new AccountViews({ maxEntries: 2, maxAgeMs: 60_000 });
    for (const id of ['a', 'b', 'c']) views.remember(account({ id }));
    expect(['a', 'b', 'c'].map((id) => views.get(id, 'user') !== undefined)).toEqual([false, true, true]);
    const none = new AccountViews({ maxEntries: 0, maxAgeMs: 60_000 });
    none.remember(account());
    expect(none.get('user-1', 'user')).toBeUndefined();
  });
});
