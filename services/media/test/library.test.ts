import {
  download,
  NO_SUCH_ID,
  outboxEvents,
  rowsOf,
  startMedia,
  uploaded,
  type Caller,
  type MediaBody,
  type MediaHarness,
} from './harness';
import { jpeg, png } from './images';

jest.setTimeout(60_000);

let h: MediaHarness;
beforeAll(async () => {
  h = await startMedia();
});
afterAll(async () => {
  await h.close();
});

/** Every id of a caller's list, page by page, following next_cursor. */
const everyPage = async (caller: Caller, limit: number) => {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: MediaBody[]; next_cursor: string | null } } = await h.http
      .get('/api/v1/media')
      .query({ limit, ...(cursor ? { cursor } : {}) })
      .set(caller.headers)
      .expect(200);
    pages.push(page.body.items.map((item) => item.id));
    cursor = page.body.next_cursor;
  } while (cursor && pages.length < 100);
  return pages;
};

describe('GET /api/v1/media and /api/v1/media/{id}', () => {
  it('when a user has uploaded five images, then their list gives them newest first, two a page, and no one else’s', async () => {
    const [owner, other] = [await h.caller(), await h.caller()];
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await uploaded(h, owner, await jpeg(20 + i, 20))).id);
    await uploaded(h, other, await jpeg());

    expect(await everyPage(owner, 2)).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
    const first = await h.http.get('/api/v1/media').set(owner.headers).expect(200);
    expect(first.headers['cache-control']).toBe('private, no-store');
    expect(first.body.items[0]).toMatchObject({ id: ids[4], owner_id: owner.id, width: 24 });
  });

  it('when a cursor is not one the list gave out, then 400 invalid_cursor', async () => {
    const owner = await h.caller();
    const response = await h.http.get('/api/v1/media').query({ cursor: 'bm90LWEtY3Vyc29y' }).set(owner.headers).expect(400);
    expect(response.body.error).toBe('invalid_cursor');
  });

  it('when the owner reads an image, then they get its metadata; another user gets 404 media_not_found, never 403, on every route', async () => {
    const [owner, other] = [await h.caller(), await h.caller()];
    const image = await uploaded(h, owner, await png(40, 30), 'image/png');
    expect((await h.http.get(`/api/v1/media/${image.id}`).set(owner.headers).expect(200)).body).toEqual(image);

    for (const path of [`/api/v1/media/${image.id}`, `/api/v1/media/${image.id}/content`, `/api/v1/media/${image.id}/url`]) {
      expect((await h.http.get(path).set(other.headers).expect(404)).body.error).toBe('media_not_found');
    }
    expect((await h.http.delete(`/api/v1/media/${image.id}`).set(other.headers).expect(404)).body.error).toBe('media_not_found');
    // Still there, whole, for its owner.
    expect((await download(h, owner, image.id)).length).toBe(image.bytes);
  });

  it('when an id names no image, or is not an id, then 404 media_not_found or 400 naming it', async () => {
    const owner = await h.caller();
    await h.http.get(`/api/v1/media/${NO_SUCH_ID}`).set(owner.headers).expect(404);
    const bad = await h.http.get('/api/v1/media/not-an-id').set(owner.headers).expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ path: 'params.id' })]);
  });

  it('when there is no token, then every route is 401', async () => {
    for (const path of ['/api/v1/media', '/api/v1/media/stats', `/api/v1/media/${NO_SUCH_ID}`, `/api/v1/media/${NO_SUCH_ID}/content`]) {
      await h.http.get(path).expect(401);
    }
  });
});

describe('GET /api/v1/media/stats', () => {
  it('when a user uploads and deletes, then their count and bytes follow (thumbnails included), beside their quota', async () => {
    const owner = await h.caller();
    const empty = await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200);
    expect(empty.body).toEqual({ files: 0, bytes: 0, quota: { files: 1_000, bytes: 1_073_741_824 } });

    const [a, b] = [await uploaded(h, owner, await jpeg(300, 200)), await uploaded(h, owner, await png(50, 50), 'image/png')];
    expect(a.stored_bytes).toBe(Object.values(a.sizes).reduce((sum, size) => sum + size.bytes, 0));
    expect((await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toMatchObject({
      files: 2,
      bytes: a.stored_bytes + b.stored_bytes,
    });

    await h.http.delete(`/api/v1/media/${a.id}`).set(owner.headers).expect(204);
    expect((await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toMatchObject({
      files: 1,
      bytes: b.stored_bytes,
    });
  });
});

describe('DELETE /api/v1/media/{id}', () => {
  it('when the owner deletes an image, then its row, its four objects and its place in the list go, and media.deleted is written once', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    const keys = ['original', 'small', 'medium', 'large'].map((variant) => `media/${image.id}/${variant}`);
    expect(await h.storedKeys()).toEqual(expect.arrayContaining(keys));

    await h.http.delete(`/api/v1/media/${image.id}`).set(owner.headers).expect(204);

    expect(await rowsOf(h, owner.id)).toEqual([]);
    expect((await h.storedKeys()).filter((key) => keys.includes(key))).toEqual([]);
    expect((await h.http.get('/api/v1/media').set(owner.headers).expect(200)).body.items).toEqual([]);
    await h.http.get(`/api/v1/media/${image.id}/content`).set(owner.headers).expect(404);
    expect((await outboxEvents(h, image.id)).map((event) => [event.type, event.subject, event.data])).toEqual([
      ['media.uploaded', owner.id, expect.objectContaining({ media_id: image.id })],
      ['media.deleted', owner.id, { media_id: image.id }],
    ]);
    expect((await h.http.delete(`/api/v1/media/${image.id}`).set(owner.headers).expect(404)).body.error).toBe('media_not_found');
  });
});

describe('quotas (MEDIA_QUOTA_FILES, MEDIA_QUOTA_BYTES)', () => {
  let q: MediaHarness;
  beforeAll(async () => {
    q = await startMedia({ env: { MEDIA_QUOTA_FILES: '2', MEDIA_QUOTA_BYTES: '400000' } });
  });
  afterAll(async () => {
    await q.close();
  });

  it('when a user keeps as many images as they may, then the next upload is 409 quota_exceeded (quota.files) before its body is read, and a deletion makes room', async () => {
    const owner = await q.caller();
    const first = await uploaded(q, owner, await jpeg());
    await uploaded(q, owner, await jpeg());

    const refused = await q.upload(owner, await jpeg()).expect(409);
    expect(refused.body).toMatchObject({ error: 'quota_exceeded', details: [expect.objectContaining({ path: 'quota.files' })] });
    expect(refused.headers.connection).toBe('close');
    expect(await rowsOf(q, owner.id)).toHaveLength(2);

    await q.http.delete(`/api/v1/media/${first.id}`).set(owner.headers).expect(204);
    await uploaded(q, owner, await jpeg());
  });

  it('when an image would take the user past their bytes, then 409 quota_exceeded (quota.bytes), nothing is stored, and a smaller one still fits', async () => {
    const owner = await q.caller();
    // Noise does not compress: about 250 kB stored with its thumbnails.
    const big = await uploaded(q, owner, await jpeg(400, 300, { noise: true }));
    expect(big.stored_bytes).toBeGreaterThan(200_000);
    const keys = await q.storedKeys();

    const refused = await q.upload(owner, await jpeg(400, 300, { noise: true })).expect(409);
    expect(refused.body).toMatchObject({ error: 'quota_exceeded', details: [expect.objectContaining({ path: 'quota.bytes' })] });
    expect(await q.storedKeys()).toEqual(keys);
    expect((await q.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toEqual({
      files: 1,
      bytes: big.stored_bytes,
      quota: { files: 2, bytes: 400_000 },
    });
    await uploaded(q, owner, await jpeg(16, 16));
  });

  it('when a user sends ten uploads at once with room for two, then exactly two are stored and eight are 409', async () => {
    const owner = await q.caller();
    const answers = await Promise.all(Array.from({ length: 10 }, async () => q.upload(owner, await jpeg(32, 32))));
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 201, ...Array(8).fill(409)]);
    expect(await rowsOf(q, owner.id)).toHaveLength(2);
    expect((await q.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body.files).toBe(2);
  });
});

describe('the API’s description', () => {
  it('when the OpenAPI document is read, then the upload takes any image type as binary and multipart with its part file, and every route is there', async () => {
    const document = (await h.http.get('/api/v1/media/openapi.json').expect(200)).body;
    const upload = document.paths['/api/v1/media'].post;
    expect(Object.keys(upload.requestBody.content)).toEqual(['image/*', 'multipart/form-data']);
    expect(upload.requestBody.content['image/*'].schema).toEqual({ type: 'string', format: 'binary' });
    expect(upload.requestBody.content['multipart/form-data'].schema.$ref).toBe('#/components/schemas/MediaUploadParts');
    expect(document.components.schemas.MediaUploadParts.required).toEqual(['file']);
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(['201', '409', '413', '415', '422', '503']));
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/v1/media',
        '/api/v1/media/avatar',
        '/api/v1/media/avatars/{id}',
        '/api/v1/media/signed',
        '/api/v1/media/stats',
        '/api/v1/media/{id}',
        '/api/v1/media/{id}/content',
        '/api/v1/media/{id}/url',
      ].sort(),
    );
  });
});
