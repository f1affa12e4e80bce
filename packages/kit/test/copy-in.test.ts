import { copyField, copyIn, createDatabase, isUniqueViolation, type Knex } from '@galion/kit';
import { testDatabase, type TestDatabase } from '@galion/localdeps';

describe('COPY FROM STDIN through copyIn', () => {
  let database: TestDatabase;
  let db: Knex;
  beforeAll(async () => {
    database = await testDatabase('kit_copy');
    // One connection: the query after a failed COPY runs on the connection the COPY failed on.
    db = createDatabase({ url: database.url, poolMax: 1 });
    await db.raw('CREATE TABLE notes (id integer PRIMARY KEY, body text)');
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });
  beforeEach(() => db('notes').delete());

  const lines = (rows: [number, string | null][]) => Buffer.from(rows.map(([id, body]) => `${copyField(id)}\t${copyField(body)}\n`).join(''));
  const stored = () => db('notes').orderBy('id').select('id', 'body');

  it('when rows are copied in chunks, then each arrives as written, escapes and nulls included, and their number comes back', async () => {
    const rows: [number, string | null][] = [
      [1, 'tab\there, line\nbreak, return\r, back\\slash'],
      [2, null],
      [3, '\\N is text here'],
    ];

    const copied = await copyIn(db, 'COPY notes (id, body) FROM STDIN', [lines(rows.slice(0, 1)), lines(rows.slice(1))]);

    expect(copied).toBe(3);
    expect(await stored()).toEqual(rows.map(([id, body]) => ({ id, body })));
  });

  it('when a row breaks a unique key, then the COPY fails with the unique violation, keeps nothing, and the connection serves the next query', async () => {
    await db('notes').insert({ id: 2, body: 'already here' });

    const failure = await copyIn(db, 'COPY notes (id, body) FROM STDIN', [lines([[1, 'new'], [2, 'again']])]).catch((error: unknown) => error);

    expect(isUniqueViolation(failure)).toBe(true);
    expect(await stored()).toEqual([{ id: 2, body: 'already here' }]);
  });

  it('when it runs in a transaction that rolls back, then its rows go with it', async () => {
    await db
      .transaction(async (trx) => {
        await copyIn(trx, 'COPY notes (id, body) FROM STDIN', [lines([[7, 'in the transaction']])]);
        expect(await trx('notes').count({ n: '*' }).first()).toEqual({ n: 1 });
        throw new Error('roll back');
      })
      .catch(() => undefined);

    expect(await stored()).toEqual([]);
  });
});
