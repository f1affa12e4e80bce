import { batchSize, doNotTrack, enqueue, MAX_QUEUE, MAX_TRIES, outcome, retryAfterMs, retryDelayMs } from '../src/decisions';

describe('when a batch is tried again', () => {
  it('when no Retry-After is given, then the waits double from 1 s, and after the fifth try the batch is given up', () => {
    const waits: (number | undefined)[] = [];
    for (let tried = 1; tried <= MAX_TRIES; tried += 1) waits.push(retryDelayMs(tried, undefined));

    expect(MAX_TRIES).toBe(5);
    expect(waits).toEqual([1000, 2000, 4000, 8000, undefined]);
  });

  it('when the server says Retry-After, then that wait is used instead of the doubling one, but never past the last try', () => {
    expect(retryDelayMs(1, 30_000)).toBe(30_000);
    expect(retryDelayMs(3, 0)).toBe(0);
    expect(retryDelayMs(MAX_TRIES, 1000)).toBeUndefined();
  });

  it.each([
    [202, false, 'done'],
    [200, true, 'done'],
    [0, false, 'retry'],
    [429, false, 'retry'],
    [500, false, 'retry'],
    [503, true, 'retry'],
    [401, true, 'retry'],
    [401, false, 'drop'],
    [400, false, 'drop'],
    [403, false, 'drop'],
    [413, true, 'drop'],
  ] as const)('when the answer is %i (with a token: %s), then the batch is %s', (status, withToken, expected) => {
    expect(outcome(status, withToken)).toBe(expected);
  });
});

describe('reading Retry-After', () => {
  const now = Date.parse('2026-12-01T10:00:00.000Z');

  it('when it is a number of seconds, then it is that many milliseconds', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
  });

  it('when it is an HTTP date, then it is the time until then, and 0 for a date already past', () => {
    expect(retryAfterMs('Tue, 01 Dec 2026 10:00:07 GMT', now)).toBe(7000);
    expect(retryAfterMs('Tue, 01 Dec 2026 09:59:00 GMT', now)).toBe(0);
  });

  it.each([null, undefined, '', 'soon', '-1', '1.5'])('when it is %p, then there is none (the doubling wait applies)', (header) => {
    expect(retryAfterMs(header, now)).toBeUndefined();
  });
});

describe('Do-Not-Track', () => {
  it('when the tracker respects it and the browser says DNT or GPC, then nothing is sent', () => {
    expect(doNotTrack(true, { doNotTrack: '1' })).toBe(true);
    expect(doNotTrack(true, { doNotTrack: null, globalPrivacyControl: true })).toBe(true);
  });

  it('when the browser says neither, or the tracker was not asked to respect it, then events are sent', () => {
    expect(doNotTrack(true, { doNotTrack: '0', globalPrivacyControl: false })).toBe(false);
    expect(doNotTrack(true, { doNotTrack: 'unspecified' })).toBe(false);
    expect(doNotTrack(false, { doNotTrack: '1', globalPrivacyControl: true })).toBe(false);
    expect(doNotTrack(undefined, { doNotTrack: '1' })).toBe(false);
  });
});

describe('the queue and the batch size', () => {
  it('when more events wait than the queue holds, then the oldest are dropped and the newest kept', () => {
    const queue: number[] = [];
    for (let event = 1; event <= MAX_QUEUE + 5; event += 1) enqueue(queue, event);

    expect(queue).toHaveLength(MAX_QUEUE);
    expect(queue[0]).toBe(6);
    expect(queue[MAX_QUEUE - 1]).toBe(MAX_QUEUE + 5);
  });

  it('when maxBatch is left out or out of range, then it is 50 by default and held to 1..500', () => {
    expect(batchSize(undefined)).toBe(50);
    expect(batchSize(10)).toBe(10);
    expect(batchSize(5000)).toBe(500);
    expect(batchSize(0)).toBe(1);
    expect(batchSize(Number.NaN)).toBe(50);
  });
});
