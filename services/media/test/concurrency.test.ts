import { rowsOf, startMedia, STORAGE_KINDS, type MediaBody, type MediaHarness } from './harness';
import { jpeg } from './images';

jest.setTimeout(120_000);

describe.each(STORAGE_KINDS)('100 uploads at once, images on %s', (storage) => {
  let h: MediaHarness;
  beforeAll(async () => {
    h = await startMedia({ storage, env: { MEDIA_MAX_UPLOADS_IN_FLIGHT: '100' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('when one user sends 100 uploads at once, then all 100 are stored, listed and counted, each with its four objects', async () => {
    const owner = await h.caller();
    const images = await Promise.all(Array.from({ length: 100 }, (_, i) => jpeg(50 + i, 40)));

    const answers = await Promise.all(images.map((image) => h.upload(owner, image)));

    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(201));
    const bodies = answers.map((answer) => answer.body as MediaBody);
    expect(new Set(bodies.map((body) => body.width))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => 50 + i)));
    const rows = await rowsOf(h, owner.id);
    expect(rows.filter((row: { state: string }) => row.state === 'ready')).toHaveLength(100);
    const stats = (await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body;
    expect(stats).toMatchObject({ files: 100, bytes: bodies.reduce((sum, body) => sum + body.stored_bytes, 0) });
    const keys = await h.storedKeys();
    for (const body of bodies) expect(keys.filter((key) => key.includes(body.id))).toHaveLength(4);
    const listed = (await h.http.get('/api/v1/media').query({ limit: 100 }).set(owner.headers).expect(200)).body;
    expect(listed.items).toHaveLength(100);
    expect(listed.next_cursor).toBeNull();
  });

  it('when more uploads come at once than MEDIA_MAX_UPLOADS_IN_FLIGHT, then the ones past it are 503 overloaded with Retry-After, and the others stored', async () => {
    const small = await startMedia({ storage, env: { MEDIA_MAX_UPLOADS_IN_FLIGHT: '2' } });
    try {
      const owner = await small.caller();
      const images = await Promise.all(Array.from({ length: 12 }, (_, i) => jpeg(600 + i, 400, { noise: true })));
      const answers = await Promise.all(images.map((image) => small.upload(owner, image)));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 201 || status === 503)).toBe(true);
      const refused = answers.find((answer) => answer.status === 503)!;
      expect(refused.body.error).toBe('overloaded');
      expect(refused.headers['retry-after']).toBe('1');
      expect(await rowsOf(small, owner.id)).toHaveLength(statuses.filter((status) => status === 201).length);
    } finally {
      await small.close();
    }
  });
});
