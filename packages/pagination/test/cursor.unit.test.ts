import {
  CURSOR_VERSION,
  decodeCursor,
  encodeCursor,
  keysetPage,
  MAX_CURSOR_LENGTH,
  rowsToRead,
  type CursorShape,
  type KeysetPosition,
} from '@galion/pagination';

const ID = '0190a8f2-0000-7000-8000-000000000000';
const oneValue: CursorShape = { values: 1 };

/** A cursor with this payload, as a client that forges or edits one would make it. */
const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

/** What decoding throws, or undefined when it accepts the cursor. */
const refusalOf = (cursor: string, shape: CursorShape = oneValue): unknown => {
  try {
    decodeCursor(cursor, shape);
  } catch (error) {
    return error;
  }
  return undefined;
};

const invalidCursor = { status: 400, code: 'invalid_cursor' };

describe('cursor codec', () => {
  it('when a position is encoded, then decoding gives it back, and the cursor is URL-safe', () => {
    const position: KeysetPosition = { values: ['2026-01-01T00:00:00.123456Z', 'Zoë | "quoted" ✓'], id: ID };

    const cursor = encodeCursor(position);

    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, { values: 2 })).toEqual(position);
  });

  it('when a cursor is not base64url or not JSON, then 400 invalid_cursor', () => {
    const cursors = ['not-a-cursor!', Buffer.from('hello').toString('base64url'), 'bm90LWEtY3Vyc29y', ''];

    const refusals = cursors.map((cursor) => refusalOf(cursor));

    for (const refusal of refusals) expect(refusal).toMatchObject(invalidCursor);
  });

  it('when a cursor given out is edited, then 400 invalid_cursor', () => {
    const edits = [
      { v: CURSOR_VERSION, s: ['a'], id: 'not-a-uuid' },
      { v: CURSOR_VERSION, s: ['a', 'b'], id: ID },
      { v: CURSOR_VERSION, s: [1], id: ID },
      { v: CURSOR_VERSION, s: ['a\u0000'], id: ID },
      { v: CURSOR_VERSION, s: ['a'], id: ID, admin: true },
      [CURSOR_VERSION, ['a'], ID],
    ];

    const refusals = edits.map((payload) => refusalOf(forged(payload)));

    for (const refusal of refusals) expect(refusal).toMatchObject(invalidCursor);
  });

  it('when a cursor has another version, then 400 invalid_cursor', () => {
    const cursor = forged({ v: CURSOR_VERSION + 1, s: ['a'], id: ID });

    expect(refusalOf(cursor)).toMatchObject(invalidCursor);
    expect(refusalOf(forged({ v: CURSOR_VERSION, s: ['a'], id: ID }))).toBeUndefined();
  });

  it('when the service refuses a value, then 400 invalid_cursor', () => {
    const timestamps: CursorShape = { values: 1, accepts: ([time]) => !Number.isNaN(Date.parse(time!)) };

    expect(refusalOf(encodeCursor({ values: ['2026-13-01T00:00:00Z'], id: ID }), timestamps)).toMatchObject(invalidCursor);
    expect(refusalOf(encodeCursor({ values: ['2026-12-01T00:00:00Z'], id: ID }), timestamps)).toBeUndefined();
  });

  it('when a cursor is longer than the bound, then it is refused unread; encoding one that long fails', () => {
    const overlong = forged({ v: CURSOR_VERSION, s: ['x'.repeat(MAX_CURSOR_LENGTH)], id: ID });

    expect(overlong.length).toBeGreaterThan(MAX_CURSOR_LENGTH);
    expect(refusalOf(overlong)).toMatchObject(invalidCursor);
    expect(() => encodeCursor({ values: ['x'.repeat(MAX_CURSOR_LENGTH)], id: ID })).toThrow(/exceeds/);
  });
});

describe('keyset page', () => {
  const rows = ['a', 'b', 'c'].map((name, index) => ({ name, id: ID.replace(/0$/, String(index)) }));
  const positionOf = (row: { name: string; id: string }): KeysetPosition => ({ values: [row.name], id: row.id });

  it('when more rows than the limit were read, then the page holds the limit and its cursor points after its last row', () => {
    const page = keysetPage(rows, 2, positionOf);

    expect(rowsToRead(2)).toBe(3);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.nextCursor!, oneValue)).toEqual(positionOf(rows[1]!));
  });

  it('when no more rows than the limit were read, then it is the last page', () => {
    expect(keysetPage(rows, 3, positionOf)).toEqual({ items: rows, nextCursor: null });
    expect(keysetPage([], 3, positionOf)).toEqual({ items: [], nextCursor: null });
  });
});
