import { createEvent, parseEvent, uuidv7, validateEvent } from '../src';

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

  it('when many UUIDv7 are made in one millisecond, then they are unique', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => uuidv7(now)));
    expect(ids.size).toBe(1000);
  });
});
