import { leavesNoActiveAdmin, removesAnActiveAdmin } from '../src/domain/admin-rules';

const activeAdmin = { role: 'admin', active: true };

describe('the last-admin rule', () => {
  it('when an active admin is demoted, deactivated or deleted, then the change removes an active admin', () => {
    expect(removesAnActiveAdmin(activeAdmin, { role: 'user' })).toBe(true);
    expect(removesAnActiveAdmin(activeAdmin, { active: false })).toBe(true);
    expect(removesAnActiveAdmin(activeAdmin, 'delete')).toBe(true);
  });

  it('when the change keeps the admin an active admin, or the user is not one, then it removes none', () => {
    expect(removesAnActiveAdmin(activeAdmin, { role: 'admin', active: true })).toBe(false);
    expect(removesAnActiveAdmin(activeAdmin, {})).toBe(false);
    expect(removesAnActiveAdmin({ role: 'admin', active: false }, 'delete')).toBe(false);
    expect(removesAnActiveAdmin({ role: 'user', active: true }, { active: false })).toBe(false);
  });

  it('when that admin is the only active one, then the change would leave none; with another, it would not', () => {
    expect(leavesNoActiveAdmin(['a'], 'a')).toBe(true);
    expect(leavesNoActiveAdmin(['a', 'b'], 'a')).toBe(false);
    expect(leavesNoActiveAdmin(['b'], 'a')).toBe(false);
  });
});
