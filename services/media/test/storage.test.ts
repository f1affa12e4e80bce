import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from '@galion/events';
import { download, rowsOf, startMedia, STORAGE_KINDS, uploaded, type Caller, type MediaHarness } from './harness';
import { jpeg, png } from './images';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a URL of `GET /{id}/url`: the store's own (S3), or a path of the service (disk). */
const fetchUrl = async (h: MediaHarness, url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> => {
  const response = await fetch(url.startsWith('/') ? `${h.url}${url}` : url);
  return { status: response.status, type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
};

describe.each(STORAGE_KINDS)('storage on %s', (storage) => {
  let h: MediaHarness;
  beforeAll(async () => {
    h = await startMedia({ storage, env: { MEDIA_PRESIGN_SECONDS: '2', MEDIA_PENDING_GRACE_SECONDS: '60' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('when an image is uploaded, then its four objects are in the store and read back whole; when it is deleted, they are gone', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg(300, 200));
    const keys = ['original', 'small', 'medium', 'large'].map((variant) => `media/${image.id}/${variant}`);
    expect((await h.storedKeys()).filter((key) => key.includes(image.id))).toEqual([...keys].sort());
    expect((await h.service.objects.head(keys[0]!))?.bytes).toBe(image.bytes);
    expect((await download(h, owner, image.id)).length).toBe(image.bytes);

    await h.http.delete(`/api/v1/media/${image.id}`).set(owner.headers).expect(204);
    expect((await h.storedKeys()).filter((key) => key.includes(image.id))).toEqual([]);
    expect(await h.service.objects.get(keys[0]!)).toBeUndefined();
  });

  it('when the owner asks for a URL, then it reads the image without a token until it expires, and is refused after', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg(120, 80));
    const signed = await h.http.get(`/api/v1/media/${image.id}/url`).query({ size: 'medium' }).set(owner.headers).expect(200);
    expect(signed.body).toMatchObject({ size: 'medium', content_type: 'image/webp' });
    const expiresAt = Date.parse(signed.body.expires_at);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(2_000);

    const read = await fetchUrl(h, signed.body.url);
    expect(read.status).toBe(200);
    expect(read.type).toBe('image/webp');
    expect(read.bytes.equals(await download(h, owner, image.id, 'medium'))).toBe(true);

    await sleep(Math.max(0, expiresAt - Date.now()) + 1_500);
    expect((await fetchUrl(h, signed.body.url)).status).toBe(403);
  });

  it('when a URL’s signature is changed, then it is refused', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    const { url } = (await h.http.get(`/api/v1/media/${image.id}/url`).set(owner.headers).expect(200)).body as { url: string };
    const tampered = url.replace(
      /(signature|Signature)=([A-Za-z0-9_%-])/,
      (_match, name: string, first: string) => `${name}=${first === 'A' ? 'B' : 'A'}`,
    );
    expect(tampered).not.toBe(url);
    expect((await fetchUrl(h, tampered)).status).toBe(403);
  });

  it('when an upload was left pending past its grace and an object has no row, then the sweep removes both and leaves the rest', async () => {
    const owner = await h.caller();
    const kept = await uploaded(h, owner, await jpeg());
    const young = await uploaded(h, owner, await png(), 'image/png');
    const abandoned = await uploaded(h, owner, await jpeg(30, 30));
    // As a process that died after storing the objects and before marking them ready leaves them:
    // one an hour ago, one just now (still within its grace).
    await h
      .db('media')
      .where({ id: abandoned.id })
      .update({ state: 'pending', ready_at: null, created_at: h.db.raw("now() - interval '1 hour'") });
    await h.db('media').where({ id: young.id }).update({ state: 'pending', ready_at: null });
    const orphan = `media/${uuidv7()}/original`;
    await h.service.objects.put(orphan, await jpeg(), 'image/jpeg');
    const before = (await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body;

    expect(await h.service.sweeper.runOnce()).toEqual({ pending: 1, orphans: 1 });

    const keys = await h.storedKeys();
    expect(keys.filter((key) => key.includes(abandoned.id) || key === orphan)).toEqual([]);
    expect(keys.filter((key) => key.includes(kept.id) || key.includes(young.id))).toHaveLength(8);
    expect((await rowsOf(h, owner.id)).map((row: { id: string }) => row.id).sort()).toEqual([kept.id, young.id].sort());
    expect((await h.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toMatchObject({
      files: before.files - 1,
      bytes: before.bytes - abandoned.stored_bytes,
    });
    await download(h, owner, kept.id);
    expect(await h.service.sweeper.runOnce()).toEqual({ pending: 0, orphans: 0 });
  });

  describe('when the store is down', () => {
    let down: MediaHarness;
    let owner: Caller;
    beforeAll(async () => {
      down = await startMedia({ storage });
      owner = await down.caller();
      await uploaded(down, owner, await jpeg());
      if (down.s3) await down.s3.stop();
      else {
        // The disk fails: the objects' directory is replaced by a file.
        renameSync(join(down.diskDir!, 'objects'), join(down.diskDir!, 'objects.gone'));
        writeFileSync(join(down.diskDir!, 'objects'), 'not a directory');
      }
    });
    afterAll(async () => {
      await down.close();
    });

    it('then an upload is 503 dependency_unavailable with Retry-After, no row is left and the quota is as it was', async () => {
      const before = (await down.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body;
      const response = await down.upload(owner, await jpeg()).expect(503);
      expect(response.body.error).toBe('dependency_unavailable');
      expect(response.headers['retry-after']).toBeDefined();
      expect(await rowsOf(down, owner.id)).toHaveLength(1);
      expect((await down.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toEqual(before);
    });

    it('then readiness fails naming the object store, while metadata is still read', async () => {
      const ready = await down.http.get('/readyz').expect(503);
      expect(ready.body.checks['object-store']).toMatch(/^failing/);
      expect((await down.http.get('/api/v1/media').set(owner.headers).expect(200)).body.items).toHaveLength(1);
    });
  });
});
