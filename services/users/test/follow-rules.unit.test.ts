import { followRefusal } from '../src/domain/follow-rules';
import { isDatabaseTimestamp } from '../src/domain/timestamps';
import { seesProfile, seesWhole } from '../src/domain/visibility';

const me = 'a0000000-0000-7000-8000-000000000001';
const other = 'b0000000-0000-7000-8000-000000000002';

describe('who may follow whom', () => {
  it('when the followee is active and someone else, then the follow is allowed', () => {
    expect(followRefusal(me, other, { active: true })).toBeUndefined();
  });

  it('when the followee is oneself, then it is refused as self, whatever the profile', () => {
    expect(followRefusal(me, me, { active: true })).toBe('self');
    expect(followRefusal(me, me, undefined)).toBe('self');
  });

  it('when there is no such profile, or it is deactivated, then it is refused alike as not found', () => {
    expect(followRefusal(me, other, undefined)).toBe('not_found');
    expect(followRefusal(me, other, { active: false })).toBe('not_found');
  });
});

describe('who sees a profile and its lists', () => {
  const user = { sub: me, role: 'user' as const };
  const admin = { sub: 'c0000000-0000-7000-8000-000000000003', role: 'admin' as const };
  const profile = (isPublic: boolean, active: boolean, id = other) => ({ id, isPublic, active });

  it('when the viewer is the user or an admin, then they see it whole, private or deactivated', () => {
    expect(seesWhole(user, me)).toBe(true);
    expect(seesWhole(admin, other)).toBe(true);
    expect(seesProfile(user, profile(false, false, me))).toBe(true);
    expect(seesProfile(admin, profile(false, false))).toBe(true);
  });

  it('when the viewer is someone else, then only a public and active profile is seen, and not whole', () => {
    expect(seesWhole(user, other)).toBe(false);
    expect(seesProfile(user, profile(true, true))).toBe(true);
    expect(seesProfile(user, profile(false, true))).toBe(false);
    expect(seesProfile(user, profile(true, false))).toBe(false);
  });
});

describe('timestamps in cursors', () => {
  it('when the value is PostgreSQL’s text of a timestamptz, then it is accepted; anything else is not', () => {
    expect(isDatabaseTimestamp('2026-12-01 18:33:46.123456+00')).toBe(true);
    expect(isDatabaseTimestamp('2026-02-29 00:00:00+00')).toBe(false);
    expect(isDatabaseTimestamp('user 12')).toBe(false);
  });
});
