import { AppError, MemoryStore } from '@galion/kit';
import { LoginThrottle, type LoginThrottleSettings } from '../src/domain/login-throttle';

const SETTINGS: LoginThrottleSettings = {
  maxFailuresPerAccount: 3,
  maxFailuresPerIp: 10,
  windowSeconds: 900,
  backoffBaseSeconds: 2,
  backoffMaxSeconds: 30,
};

/** A throttle over an in-memory store whose clock the test moves. */
const aThrottle = (settings: Partial<LoginThrottleSettings> = {}) => {
  let now = 1_000_000;
  const store = new MemoryStore(() => now);
  const throttle = new LoginThrottle(store, { ...SETTINGS, ...settings });
  return {
    throttle,
    store,
    advanceSeconds: (seconds: number) => void (now += seconds * 1000),
    close: () => store.close(),
  };
};

/** The wait `check` asks for, in seconds (its Retry-After), or 0 when it lets the attempt through. */
const waitAsked = async (throttle: LoginThrottle, email: string, ip: string): Promise<number> => {
  try {
    await throttle.check(email, ip);
    return 0;
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 429) throw error;
    return Number(error.headers['Retry-After']);
  }
};

const failTimes = async (throttle: LoginThrottle, times: number, email: string, ip: string) => {
  for (let i = 0; i < times; i += 1) await throttle.recordFailure(email, ip);
};

describe('login throttle', () => {
  test('when an account fails fewer times than the limit, then the next attempt is let through', async () => {
    const { throttle, close } = aThrottle();

    await failTimes(throttle, 2, 'ada@example.com', '10.0.0.1');

    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(0);
    await close();
  });

  test('when failures reach the limit, then the attempt waits the base delay, and each further failure doubles it up to the cap', async () => {
    const { throttle, close } = aThrottle();
    const waits: number[] = [];

    for (let failure = 1; failure <= 8; failure += 1) {
      await throttle.recordFailure('ada@example.com', '10.0.0.1');
      waits.push(await waitAsked(throttle, 'ada@example.com', '10.0.0.1'));
    }

    expect(waits).toEqual([0, 0, 2, 4, 8, 16, 30, 30]);
    await close();
  });

  test('when the 429 is raised, then it says why and carries Retry-After', async () => {
    const { throttle, close } = aThrottle();
    await failTimes(throttle, 3, 'ada@example.com', '10.0.0.1');

    const refused = throttle.check('ada@example.com', '10.0.0.1');

    await expect(refused).rejects.toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '2' } });
    await expect(refused).rejects.toThrow(/Too many failed logins/);
    await close();
  });

  test('when the delay has passed, then the account may try again', async () => {
    const { throttle, advanceSeconds, close } = aThrottle();
    await failTimes(throttle, 4, 'ada@example.com', '10.0.0.1');
    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(4);

    advanceSeconds(3);
    const stillWaiting = await waitAsked(throttle, 'ada@example.com', '10.0.0.1');
    advanceSeconds(1);

    expect(stillWaiting).toBe(1);
    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(0);
    await close();
  });

  test('when the failure window ends, then failures before it no longer count towards the limit', async () => {
    const { throttle, advanceSeconds, close } = aThrottle();
    await failTimes(throttle, 2, 'ada@example.com', '10.0.0.1');

    advanceSeconds(SETTINGS.windowSeconds);
    await throttle.recordFailure('ada@example.com', '10.0.0.1');

    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(0);
    await close();
  });

  test('when an attacker fails on an account from one address, then its owner from another address is not held back', async () => {
    const { throttle, close } = aThrottle();

    await failTimes(throttle, 5, 'ada@example.com', '203.0.113.9');

    expect(await waitAsked(throttle, 'ada@example.com', '203.0.113.9')).toBeGreaterThan(0);
    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(0);
    await close();
  });

  test('when one address fails across many accounts, then the per-IP limit holds that address back for every account', async () => {
    const { throttle, close } = aThrottle({ maxFailuresPerIp: 4 });

    for (const email of ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']) {
      await throttle.recordFailure(email, '203.0.113.9');
    }

    expect(await waitAsked(throttle, 'someone-else@example.com', '203.0.113.9')).toBe(2);
    expect(await waitAsked(throttle, 'someone-else@example.com', '10.0.0.1')).toBe(0);
    await close();
  });

  test('when a login succeeds after failures, then the account and address start over, but the address keeps its per-IP count', async () => {
    const { throttle, close } = aThrottle({ maxFailuresPerAccount: 3, maxFailuresPerIp: 5 });
    await failTimes(throttle, 2, 'ada@example.com', '10.0.0.1');

    const attempt = await throttle.check('ada@example.com', '10.0.0.1');
    await throttle.recordSuccess('ada@example.com', '10.0.0.1', attempt);
    await failTimes(throttle, 2, 'ada@example.com', '10.0.0.1');
    const adaAfterTwoMore = await waitAsked(throttle, 'ada@example.com', '10.0.0.1');
    await throttle.recordFailure('grace@example.com', '10.0.0.1');

    expect(attempt.failuresOnRecord).toBe(true);
    // Four failures of ada's would have blocked her, had the success not cleared the first two.
    expect(adaAfterTwoMore).toBe(0);
    // The address's fifth failure blocks it: its count went on through the success.
    expect(await waitAsked(throttle, 'grace@example.com', '10.0.0.1')).toBe(2);
    await close();
  });

  test('when a login succeeds with no failures on record, then the store is not asked to clear anything', async () => {
    const { throttle, store, close } = aThrottle();
    const deletes = jest.spyOn(store, 'delete');

    const attempt = await throttle.check('ada@example.com', '10.0.0.1');
    await throttle.recordSuccess('ada@example.com', '10.0.0.1', attempt);

    expect(attempt.failuresOnRecord).toBe(false);
    expect(deletes).not.toHaveBeenCalled();
    await close();
  });

  test('when a failure is recorded between a check that found none and the success, then it stays counted', async () => {
    const { throttle, close } = aThrottle({ maxFailuresPerAccount: 2 });

    const attempt = await throttle.check('ada@example.com', '10.0.0.1');
    await throttle.recordFailure('ada@example.com', '10.0.0.1');
    await throttle.recordSuccess('ada@example.com', '10.0.0.1', attempt);
    await throttle.recordFailure('ada@example.com', '10.0.0.1');

    expect(await waitAsked(throttle, 'ada@example.com', '10.0.0.1')).toBe(2);
    await close();
  });
});
