import { judgeRefreshToken } from '../src/domain/refresh-decision';

const now = new Date('2026-12-01T12:00:00Z');
const seconds = (n: number) => new Date(now.getTime() + n * 1000);
const fresh = { revokedAt: null, expiresAt: seconds(3_600), rotatedAt: null };

describe('refresh-token rotation: what a presented token gets', () => {
  it('when the token was never used and is in date, then it is rotated', () => {
    expect(judgeRefreshToken(fresh, now, 10)).toBe('rotate');
  });

  it('when it was used within the grace window (two tabs at once), then its successor is handed out again', () => {
    expect(judgeRefreshToken({ ...fresh, rotatedAt: seconds(-10) }, now, 10)).toBe('within-grace');
  });

  it('when it was used past the grace window, then it is a reuse (the family is revoked)', () => {
    expect(judgeRefreshToken({ ...fresh, rotatedAt: seconds(-11) }, now, 10)).toBe('reused');
    expect(judgeRefreshToken({ ...fresh, rotatedAt: seconds(-1) }, now, 0)).toBe('reused');
  });

  it('when it expires now or has expired, then it is refused as expired, used or not', () => {
    expect(judgeRefreshToken({ ...fresh, expiresAt: now }, now, 10)).toBe('expired');
    expect(judgeRefreshToken({ ...fresh, expiresAt: seconds(-1), rotatedAt: seconds(-5) }, now, 10)).toBe('expired');
  });

  it('when its session was ended, then it is refused as revoked before anything else', () => {
    expect(judgeRefreshToken({ ...fresh, revokedAt: seconds(-60), expiresAt: seconds(-1), rotatedAt: seconds(-5) }, now, 10)).toBe(
      'revoked',
    );
  });
});
