import type { AccessClaims } from '@galion/tokens';
import { AnalyticsQueries, DEFAULT_RANGE_MS, resolveRange, type AnalyticsQueriesDeps } from '../src/domain/queries';
import type { EventFilter } from '../src/repositories/events';

const NOW = new Date('2026-06-20T12:00:00Z');

const claims = (sub: string, role: 'user' | 'admin'): AccessClaims => ({ sub, role, jti: 'j', iat: 0, exp: 0, iss: 'i', aud: 'galion' });

/** Queries over an event store that holds nothing and records the filters it was asked for. */
const queriesOverNoEvents = () => {
  const listed: EventFilter[] = [];
  const events = { list: async (filter: EventFilter) => (listed.push(filter), []) };
  const queries = new AnalyticsQueries({ events, retentionDays: 30, now: () => NOW } as unknown as AnalyticsQueriesDeps);
  return { queries, listed };
};

const refusalOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('range defaults', () => {
  it('when neither end is given, then the range is the last 7 days up to now', () => {
    expect(resolveRange({}, NOW)).toEqual({ from: new Date(NOW.getTime() - DEFAULT_RANGE_MS), to: NOW });
  });

  it('when only a future `from` is given, then `to` is `from`, not now', () => {
    const from = new Date('2026-07-01T00:00:00Z');

    expect(resolveRange({ from }, NOW)).toEqual({ from, to: from });
  });

  it('when `from` is after `to`, then 400 invalid_range', () => {
    const refusal = (() => {
      try {
        return resolveRange({ from: new Date('2026-03-02'), to: new Date('2026-03-01') }, NOW);
      } catch (error) {
        return error;
      }
    })();

    expect(refusal).toMatchObject({ status: 400, code: 'invalid_range' });
  });
});

describe('who may list events', () => {
  it('when a user lists everyone’s or another user’s events, then 403 forbidden and the store is not read', async () => {
    const { queries, listed } = queriesOverNoEvents();
    const user = claims('u-1', 'user');

    const everyone = await refusalOf(queries.listEvents(user, { filter: {} }));
    const another = await refusalOf(queries.listEvents(user, { filter: { userId: 'u-2' } }));

    expect(everyone).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringMatching(/admin role/) });
    expect(another).toMatchObject({ status: 403, code: 'forbidden', message: 'You may read only your own events.' });
    expect(listed).toEqual([]);
  });

  it('when a user lists their own events or an admin anyone’s, then the store is read', async () => {
    const { queries, listed } = queriesOverNoEvents();

    await queries.listEvents(claims('u-1', 'user'), { filter: { userId: 'u-1' } });
    await queries.listEvents(claims('a-1', 'admin'), { filter: {} });

    expect(listed).toEqual([{ userId: 'u-1' }, {}]);
  });
});
