import { appEventFormat, recordProblem } from '../src/consumers/app-event-consumer';
import { MAX_MESSAGE_BYTES, toMessages } from '../src/domain/collector';
import { newSiteKey } from '../src/domain/sites';
import { MAX_EVENT_FUTURE_MS, MAX_EVENT_PAST_MS, referrerHost, timeProblem, urlParts, visitorOf } from '../src/domain/tracking';
import { UserAgentParser } from '../src/domain/user-agent';
import { isOrigin, TrackedEvent } from '../src/tracking-schemas';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const salt = Buffer.alloc(32, 7);

describe('tracking decisions', () => {
  it('when an event time is within 7 days back and 1 hour ahead, then it is kept; beyond either, it is refused', () => {
    expect(timeProblem(NOW, NOW)).toBeUndefined();
    expect(timeProblem(NOW - MAX_EVENT_PAST_MS, NOW)).toBeUndefined();
    expect(timeProblem(NOW + MAX_EVENT_FUTURE_MS, NOW)).toBeUndefined();
    expect(timeProblem(NOW - MAX_EVENT_PAST_MS - 1, NOW)).toMatch(/7 days/);
    expect(timeProblem(NOW + MAX_EVENT_FUTURE_MS + 1, NOW)).toMatch(/1 hour/);
  });

  it('when a URL has a query and a fragment, then only its host and path are kept', () => {
    expect(urlParts('https://Shop.Example:8443/cart?email=a@b.c#x')).toEqual({ host: 'shop.example:8443', path: '/cart' });
    expect(urlParts(undefined)).toEqual({ host: null, path: null });
  });

  it('when the referrer is another host, then its host is kept; the same host or none is no referrer', () => {
    expect(referrerHost('https://search.example/?q=secret', 'shop.example')).toBe('search.example');
    expect(referrerHost('https://shop.example/previous', 'shop.example')).toBeNull();
    expect(referrerHost('', 'shop.example')).toBeNull();
  });

  it('when the visitor is a user, then it is the user; anonymous ones are hashes that change with the salt, address or agent', () => {
    const anonymous = { site: 's1', salt, ip: '203.0.113.9', userAgent: 'UA' };
    expect(visitorOf({ ...anonymous, userId: 'u1' })).toBe('u:u1');
    const hashed = visitorOf(anonymous);
    expect(hashed).toMatch(/^d:[A-Za-z0-9_-]{22}$/);
    expect(hashed).not.toContain('203.0.113.9');
    expect(visitorOf(anonymous)).toBe(hashed);
    expect(visitorOf({ ...anonymous, salt: Buffer.alloc(32, 8) })).not.toBe(hashed);
    expect(visitorOf({ ...anonymous, ip: '203.0.113.10' })).not.toBe(hashed);
    expect(visitorOf({ ...anonymous, site: 's2' })).not.toBe(hashed);
    // An application's anonymous id is stable across days (it does not depend on the salt).
    expect(visitorOf({ ...anonymous, anonymousId: 'abc' })).toBe(visitorOf({ ...anonymous, salt: Buffer.alloc(32, 9), anonymousId: 'abc' }));
  });

  it('when site keys are made, then each is pk_ and 24 base62 characters, and they differ', () => {
    const keys = new Set(Array.from({ length: 1_000 }, newSiteKey));
    expect(keys.size).toBe(1_000);
    for (const key of keys) expect(key).toMatch(/^pk_[0-9A-Za-z]{24}$/);
  });

  it('when origins are checked, then only scheme://host[:port] with nothing after passes', () => {
    expect(isOrigin('https://shop.example')).toBe(true);
    expect(isOrigin('http://127.0.0.1:8080')).toBe(true);
    expect(isOrigin('https://shop.example/')).toBe(false);
    expect(isOrigin('https://shop.example/path')).toBe(false);
    expect(isOrigin('ftp://shop.example')).toBe(false);
    expect(isOrigin('shop.example')).toBe(false);
  });

  it('when an event holds text PostgreSQL cannot store (NUL, a lone surrogate), then it is refused', () => {
    expect(TrackedEvent.safeParse({ name: 'ok', properties: { a: 'fine' } }).success).toBe(true);
    expect(TrackedEvent.safeParse({ name: 'ok', properties: { a: 'nul\u0000' } }).success).toBe(false);
    expect(TrackedEvent.safeParse({ name: 'ok', properties: { a: 'lone \ud800' } }).success).toBe(false);
    expect(TrackedEvent.safeParse({ name: 'ok', properties: { ['k\ud800']: 1 } }).success).toBe(false);
  });

  it('when properties are nested, too many or too large, then the event is refused', () => {
    expect(TrackedEvent.safeParse({ name: 'ok', properties: { a: { b: 1 } } }).success).toBe(false);
    expect(TrackedEvent.safeParse({ name: 'ok', properties: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }).success).toBe(false);
    expect(TrackedEvent.safeParse({ name: 'ok', properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(900)])) }).success).toBe(false);
  });

  it('when user agents are parsed, then browser, OS and device come out, and bots are told apart', () => {
    const parser = new UserAgentParser();
    expect(
      parser.parse('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'),
    ).toEqual({ browser: 'Safari', os: 'iOS', device: 'mobile' });
    expect(parser.parse('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)').device).toBe('bot');
    expect(parser.parse(undefined)).toEqual({ browser: null, os: null, device: null });
  });
});

describe('app-events messages', () => {
  const base = {
    id: '0193a1b2-0000-7000-8000-000000000001',
    time: '2026-12-01T12:00:00.000Z',
    received_at: '2026-12-01T12:00:00.010Z',
    name: 'page_view',
    site: '',
    user_id: null,
    visitor: 'd:abc',
    session_id: null,
    host: null,
    path: '/',
    referrer_host: null,
    browser: null,
    os: null,
    device: null,
    properties: {},
  };

  it('when a batch holds several keys, then each key gets its own message of its records, in order', () => {
    const records = [
      { ...base, visitor: 'd:one', name: 'a' },
      { ...base, visitor: 'd:two', name: 'b' },
      { ...base, visitor: 'd:one', name: 'c' },
      { ...base, user_id: 'u1', visitor: 'u:u1', name: 'd' },
    ];

    const messages = toMessages(records);

    expect(messages.map((m) => [m.key, (JSON.parse(m.value) as { name: string }[]).map((r) => r.name)])).toEqual([
      ['d:one', ['a', 'c']],
      ['d:two', ['b']],
      ['u1', ['d']],
    ]);
  });

  it('when one key’s records pass the message size, then they are cut into several messages, none over it, none lost', () => {
    const big = Array.from({ length: 60 }, (_, i) => ({ ...base, name: `e${i}`, properties: { pad: 'x'.repeat(8_000) } }));

    const messages = toMessages(big);

    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(Buffer.byteLength(message.value)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(messages.flatMap((m) => (JSON.parse(m.value) as { name: string }[]).map((r) => r.name))).toEqual(big.map((r) => r.name));
  });

  it('when the consumer reads a message, then records as the API writes them pass and anything else is named', () => {
    expect(appEventFormat.parse(Buffer.from(JSON.stringify([base])))).toEqual({ ok: true, event: [base] });
    expect(appEventFormat.parse(Buffer.from('nope'))).toEqual({ ok: false, reason: 'not JSON' });
    expect(appEventFormat.parse(Buffer.from('[]'))).toMatchObject({ ok: false });
    expect(recordProblem({ ...base, id: 'x' })).toMatch(/^id/);
    expect(recordProblem({ ...base, time: '2026-13-45' })).toMatch(/^time/);
    expect(recordProblem({ ...base, name: '' })).toMatch(/^name/);
    expect(recordProblem({ ...base, path: 'a\u0000b' })).toMatch(/^path/);
    expect(recordProblem({ ...base, properties: { a: { nested: true } } })).toMatch(/^properties\.a/);
    expect(recordProblem({ ...base, properties: { a: '\ud800' } })).toMatch(/^properties\.a/);
    const second = appEventFormat.parse(Buffer.from(JSON.stringify([base, { ...base, visitor: 7 }])));
    expect(second).toEqual({ ok: false, reason: 'invalid app event [1]: visitor: not 1 to 128 characters' });
  });
});
