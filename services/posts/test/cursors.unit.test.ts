import { encodeCursor } from '@galion/pagination';
import { decodeSearchCursor, decodeTimeCursor, searchPosition, timePosition } from '../src/domain/cursors';

const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const time = '2025-03-01T12:34:56.123456Z';

const refusal = (decode: () => unknown) => {
  try {
    decode();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('the cursors of the time-ordered lists', () => {
  it('when a cursor of a list is given back to it, then its position comes back exactly', () => {
    for (const order of ['published', 'created', 'comments'] as const)
      expect(decodeTimeCursor(order, encodeCursor(timePosition(order, time, id)))).toEqual({ time, id });
  });

  it('when the cursor of one list is given to another, then 400 invalid_cursor', () => {
    const mine = encodeCursor(timePosition('created', time, id));
    expect(refusal(() => decodeTimeCursor('published', mine))).toBe('invalid_cursor');
    expect(refusal(() => decodeTimeCursor('comments', mine))).toBe('invalid_cursor');
  });

  it.each([
    ['a time without microseconds', { values: ['published', '2025-03-01T12:34:56Z'], id }],
    ['an impossible date', { values: ['published', '2025-13-45T12:34:56.000000Z'], id }],
    ['text where the time goes', { values: ['published', "'; DROP TABLE posts; --"], id }],
    ['a missing order', { values: [time], id }],
  ])('when the cursor holds %s, then 400 invalid_cursor', (_case, position) => {
    expect(refusal(() => decodeTimeCursor('published', encodeCursor(position)))).toBe('invalid_cursor');
  });

  it('when the cursor is not base64url JSON, then 400 invalid_cursor', () => {
    expect(refusal(() => decodeTimeCursor('published', 'not a cursor!'))).toBe('invalid_cursor');
  });
});

describe('the cursors of search', () => {
  it('when a search cursor is given back with its query, then its rank and id come back', () => {
    for (const rank of ['0.1', '1.2e-05', '3', '0.60000002'])
      expect(decodeSearchCursor('postgres index', encodeCursor(searchPosition('postgres index', rank, id)))).toEqual({ rank, id });
  });

  it('when it is given back with another query, then 400 invalid_cursor', () => {
    const cursor = encodeCursor(searchPosition('postgres', '0.1', id));
    expect(refusal(() => decodeSearchCursor('kafka', cursor))).toBe('invalid_cursor');
  });

  it.each([['NaN'], ['-0.1'], ['1e400'], ['0x10'], ['']])('when the rank is %j, then 400 invalid_cursor', (rank) => {
    const cursor = encodeCursor(searchPosition('postgres', rank, id));
    expect(refusal(() => decodeSearchCursor('postgres', cursor))).toBe('invalid_cursor');
  });

  it('when a list’s cursor is given to search, then 400 invalid_cursor', () => {
    expect(refusal(() => decodeSearchCursor('postgres', encodeCursor(timePosition('published', time, id))))).toBe('invalid_cursor');
  });
});
