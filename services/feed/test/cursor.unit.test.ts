import { encodeCursor } from '@galion/pagination';
import { decodeFeedCursor, encodeFeedCursor } from '../src/domain/cursor';

const id = '0193b6e8-8f6a-7c3e-9d4a-2b1f0e5c7a90';

describe('the feed cursors', () => {
  it('when a position is encoded, then it decodes to the same position, for the same feed only', () => {
    const position = { after: { score: 1_767_225_600_123, id }, served: 40 };
    const cursor = encodeFeedCursor('home', position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeFeedCursor('home', cursor)).toEqual(position);
    expect(() => decodeFeedCursor('global', cursor)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_cursor' }));
  });

  it('when a cursor was made up or altered, then it is refused with invalid_cursor', () => {
    const forged = [
      'not a cursor',
      encodeCursor({ values: ['home', '12.5', '0'], id }),
      encodeCursor({ values: ['home', '-1', '0'], id }),
      encodeCursor({ values: ['home', '100', 'x'], id }),
      encodeCursor({ values: ['home', '100'], id }),
      encodeCursor({ values: ['home', '100', '0'], id: 'not-a-uuid' }),
    ];
    for (const cursor of forged)
      expect(() => decodeFeedCursor('home', cursor)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});
