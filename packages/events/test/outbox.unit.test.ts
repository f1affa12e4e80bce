import { createEvent, outboxInsertGuardedBy } from '../src';

const anEvent = () => createEvent('user.logged_in', { source: 'auth', subject: '0190b0c4-0000-7000-8000-000000000001', data: { ip: '198.51.100.7' } });

describe('an outbox insert within one statement', () => {
  it('when events are given, then each is one row of bindings, its envelope as JSON, stored only if the guard returned a row', () => {
    const [first, second] = [anEvent(), anEvent()];

    const insert = outboxInsertGuardedBy('signed_in', [first, second]);

    expect(insert.sql).toContain('WHERE EXISTS (SELECT 1 FROM signed_in)');
    expect(insert.sql.match(/\?/g)).toHaveLength(8);
    expect(insert.bindings.slice(0, 3)).toEqual([first.id, 'user.logged_in', first.subject]);
    expect(JSON.parse(insert.bindings[7]!)).toEqual(second);
  });

  it('when the guard is not a plain name, then it is refused rather than put into SQL', () => {
    expect(() => outboxInsertGuardedBy('x); DROP TABLE outbox; --', [anEvent()])).toThrow(/not a WITH query name/);
    expect(() => outboxInsertGuardedBy('signed_in', [])).toThrow(/no events/);
  });
});
