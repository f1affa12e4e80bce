import { createEvent, envelopeSchema, eventDataSchemas, parseEvent, uuidv7, validateEvent } from '../src';

/** What the schemas answer when they run as written, to compare with validateEvent's compiled ones. */
const interpreted = (value: unknown) => {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) return { ok: false, issues: envelope.error.issues };
  const data = eventDataSchemas[envelope.data.type].safeParse(envelope.data.data);
  return data.success ? { ok: true, event: { ...envelope.data, data: data.data } } : { ok: false, issues: data.error.issues };
};

describe('event schemas', () => {
  it('when an event is created, then it validates and carries a time-ordered UUIDv7 id', () => {
    const first = createEvent('user.logged_out', { source: 'auth', subject: 'u1', data: { all_sessions: false } });
    const second = createEvent('user.logged_out', { source: 'auth', subject: 'u1', data: { all_sessions: true } });
    expect(validateEvent(first)).toEqual({ ok: true, event: first });
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.id < second.id || first.time <= second.time).toBe(true);
  });

  it('when a newer producer adds an optional field, then an older consumer still accepts the event', () => {
    const event = { ...createEvent('user.updated', { source: 'users', subject: 'u1', data: { changes: ['name'] } }) };
    const extended = { ...event, data: { ...event.data, nickname: 'new optional field' }, extra_envelope_field: true };
    expect(parseEvent(JSON.stringify(extended)).ok).toBe(true);
  });

  it('when a field has the wrong type, then validation says which', () => {
    const event = createEvent('user.registered', {
      source: 'auth',
      subject: 'u1',
      data: { email: 'a@example.com', name: 'A', role: 'user' },
    });
    const result = parseEvent(JSON.stringify({ ...event, data: { ...event.data, role: 'superuser' } }));
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/invalid user.registered data: role/) });
    expect(parseEvent(Buffer.alloc(0))).toEqual({ ok: false, reason: 'empty message' });
  });

  it('when media announces an upload and a deletion, then both validate; an upload without its dimensions does not', () => {
    const upload = { media_id: 'm1', content_type: 'image/jpeg', bytes: 48_213, width: 640, height: 480 };
    const uploaded = createEvent('media.uploaded', { source: 'media', subject: 'u1', data: upload });
    expect(validateEvent(uploaded)).toEqual({ ok: true, event: uploaded });
    expect(validateEvent(createEvent('media.deleted', { source: 'media', subject: 'u1', data: { media_id: 'm1' } })).ok).toBe(true);
    expect(parseEvent(JSON.stringify({ ...uploaded, data: { ...upload, width: undefined } }))).toEqual({
      ok: false,
      reason: expect.stringMatching(/invalid media.uploaded data: width/),
    });
  });

  it('when media announces a new avatar and a cleared one, then both validate; a revision of 0 does not', () => {
    const set = { media_id: 'm2', previous_media_id: 'm1', avatar_path: '/api/v1/media/avatars/m2', revision: 2 };
    const changed = createEvent('media.avatar_changed', { source: 'media', subject: 'u1', data: set });
    expect(validateEvent(changed)).toEqual({ ok: true, event: changed });
    const cleared = { media_id: null, previous_media_id: 'm2', avatar_path: null, revision: 3 };
    expect(validateEvent(createEvent('media.avatar_changed', { source: 'media', subject: 'u1', data: cleared })).ok).toBe(true);
    expect(parseEvent(JSON.stringify({ ...changed, data: { ...set, revision: 0 } }))).toEqual({
      ok: false,
      reason: expect.stringMatching(/invalid media.avatar_changed data: revision/),
    });
  });

  it('when envelopes at the edge of every rule are checked, then the compiled schemas answer as the schemas run as written', () => {
    const valid = createEvent('user.updated', { source: 'users', subject: 'u1', data: { changes: ['name'], name: 'N' } });
    const variants: Record<string, unknown>[] = [
      { id: '00000000-0000-0000-0000-000000000000' },
      { id: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' },
      { id: valid.id.toUpperCase() },
      { id: `${valid.id.slice(0, 19)}7${valid.id.slice(20)}` },
      { id: `${valid.id.slice(0, 14)}9${valid.id.slice(15)}` },
      { version: undefined },
      { version: 0 },
      { version: 1.5 },
      { version: '1' },
      { type: 'user.unknown' },
      { type: 'constructor' },
      { source: 'x'.repeat(64) },
      { source: 'x'.repeat(65) },
      { subject: '' },
      { time: '2026-12-03T10:00:00+02:00' },
      { time: '2026-12-03T10:00+02:00' },
      { time: '2026-12-03T10:00:00' },
      { time: '2024-02-29T00:00:00.123456Z' },
      { time: '2023-02-29T00:00:00Z' },
      { time: '2026-12-03T24:00:00Z' },
      { data: [] },
      { data: null },
      { data: { changes: 'name' } },
      { data: { changes: [], nickname: 'a newer producer’s field' } },
      { traceparent: 'x'.repeat(128) },
      { traceparent: 'x'.repeat(129) },
      { traceparent: null },
      { extra_envelope_field: { nested: true } },
    ];
    for (const variant of variants) {
      const value = { ...valid, ...variant };
      const answer = validateEvent(value);
      const expected = interpreted(value);

      expect({ variant, ok: answer.ok }).toEqual({ variant, ok: expected.ok });
      if (answer.ok) expect(answer.event).toEqual(expected.event);
      else expect(answer.reason).toContain(String(expected.issues?.[0]?.message));
    }
    // Both kinds of answer were met, so the comparison above compared something.
    expect(new Set(variants.map((variant) => validateEvent({ ...valid, ...variant }).ok))).toEqual(new Set([true, false]));
  });

  it('when many UUIDv7 are made in one millisecond, then they are unique', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => uuidv7(now)));
    expect(ids.size).toBe(1000);
  });
});
