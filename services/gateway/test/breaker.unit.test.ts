import { CircuitBreaker, type BreakerState } from '../src/breaker';

const OPTIONS = { failureRatio: 0.5, minRequests: 4, windowMs: 10_000, cooldownMs: 5_000 };

/** A breaker on a clock the test moves, recording each state change as "previous→next". */
const aBreaker = (options: Partial<typeof OPTIONS> = {}) => {
  let now = 0;
  const changes: string[] = [];
  const breaker = new CircuitBreaker(
    'users',
    { ...OPTIONS, ...options },
    { onStateChange: (next: BreakerState, previous: BreakerState) => changes.push(`${previous}→${next}`) },
    () => now,
  );
  return { breaker, changes, advance: (ms: number) => void (now += ms) };
};

const fail = (breaker: CircuitBreaker, times: number) => {
  for (let i = 0; i < times; i += 1) breaker.acquire()!.failure();
};
const succeed = (breaker: CircuitBreaker, times: number) => {
  for (let i = 0; i < times; i += 1) breaker.acquire()!.success();
};

describe('circuit breaker: closed', () => {
  test('when fewer calls than the minimum all fail, then it stays closed and keeps admitting calls', () => {
    const { breaker, changes } = aBreaker();

    fail(breaker, 3);

    expect(breaker.state).toBe('closed');
    expect(breaker.acquire()).toBeDefined();
    expect(changes).toEqual([]);
  });

  test('when successes keep the failure ratio under the threshold, then it stays closed; the failure that reaches it opens it', () => {
    const { breaker, changes } = aBreaker();
    succeed(breaker, 4);
    fail(breaker, 3);
    const beforeThreshold = breaker.state;

    fail(breaker, 1);

    expect(beforeThreshold).toBe('closed');
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed→open']);
  });

  test('when a permit reports twice, then only its first outcome counts', () => {
    const { breaker } = aBreaker({ minRequests: 2 });
    const permit = breaker.acquire()!;

    permit.success();
    permit.failure();

    // Had the second report counted, one success and one failure (a ratio of 0.5 over 2 calls) would open it.
    expect(breaker.state).toBe('closed');
  });

  test('when calls end without an outcome (released), then they count neither as successes nor as failures', () => {
    const { breaker } = aBreaker();
    for (let i = 0; i < 10; i += 1) breaker.acquire()!.release();

    fail(breaker, 3);
    const afterThreeFailures = breaker.state;
    fail(breaker, 1);

    expect(afterThreeFailures).toBe('closed');
    expect(breaker.state).toBe('open');
  });
});

describe('circuit breaker: open', () => {
  test('when it is open, then every call is refused until the cool-down, and Retry-After counts down to it', () => {
    const { breaker, advance } = aBreaker();
    fail(breaker, 4);

    const retryAfter = [breaker.retryAfterSeconds()];
    advance(2_500);
    retryAfter.push(breaker.retryAfterSeconds());
    advance(2_499);
    retryAfter.push(breaker.retryAfterSeconds());

    expect(retryAfter).toEqual([5, 3, 1]);
    expect([breaker.acquire(), breaker.acquire()]).toEqual([undefined, undefined]);
    expect(breaker.state).toBe('open');
  });

  test('when a call admitted before it opened fails afterwards, then the late failure does not restart the cool-down', () => {
    const { breaker, advance } = aBreaker({ minRequests: 1 });
    const slow = breaker.acquire()!;
    breaker.acquire()!.failure();

    advance(4_000);
    slow.failure();
    advance(1_000);

    expect(breaker.state).toBe('half_open');
  });
});

describe('circuit breaker: half-open', () => {
  test('when the cool-down has passed, then exactly one probe is admitted and the others are refused', () => {
    const { breaker, advance, changes } = aBreaker();
    fail(breaker, 4);

    advance(5_000);
    const probe = breaker.acquire();
    const others = [breaker.acquire(), breaker.acquire()];

    expect(probe).toBeDefined();
    expect(others).toEqual([undefined, undefined]);
    expect(changes).toEqual(['closed→open', 'open→half_open']);
  });

  test('when the probe succeeds, then it closes and counts afresh: the minimum of calls is needed again to open it', () => {
    const { breaker, advance, changes } = aBreaker();
    fail(breaker, 4);
    advance(5_000);

    breaker.acquire()!.success();
    fail(breaker, 3);
    const afterThreeFailures = breaker.state;
    fail(breaker, 1);

    expect(afterThreeFailures).toBe('closed');
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed→open', 'open→half_open', 'half_open→closed', 'closed→open']);
  });

  test('when the probe fails, then it opens again for a whole new cool-down', () => {
    const { breaker, advance, changes } = aBreaker();
    fail(breaker, 4);
    advance(5_000);

    breaker.acquire()!.failure();
    const retryAfter = breaker.retryAfterSeconds();
    advance(4_999);
    const justBefore = breaker.state;
    advance(1);

    expect(retryAfter).toBe(5);
    expect(justBefore).toBe('open');
    expect(breaker.state).toBe('half_open');
    expect(changes).toEqual(['closed→open', 'open→half_open', 'half_open→open', 'open→half_open']);
  });

  test('when a probe never reports back, then after another cool-down a new probe is admitted', () => {
    const { breaker, advance } = aBreaker();
    fail(breaker, 4);
    advance(5_000);
    breaker.acquire();

    advance(4_999);
    const tooEarly = breaker.acquire();
    advance(1);

    expect(tooEarly).toBeUndefined();
    expect(breaker.acquire()).toBeDefined();
  });
});
