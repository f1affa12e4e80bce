import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from '@galion/events';
import { download, rowsOf, startMedia, STORAGE_KINDS, uploaded, type Caller, type MediaHarness } from './harness';
import { S3ObjectStore } from '../src/storage/index';
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
    const original = await download(h, owner, image.id);
    expect(original.length).toBe(image.bytes);
    // The hash, taken of the re-encoded file before it was stored, is that of the stored bytes.
    const { headers } = await h.http.get(`/api/v1/media/${image.id}/content`).set(owner.headers).expect(200);
    expect(headers.etag).toBe(`"${createHash('sha256').update(original).digest('base64url')}"`);
    expect(h.tempFiles()).toEqual([]);

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

    it('then an upload is 503 dependency_unavailable with Retry-After, no row nor temporary file is left and the quota is as it was', async () => {
      const before = (await down.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body;
      const response = await down.upload(owner, await jpeg()).expect(503);
      expect(response.body.error).toBe('dependency_unavailable');
      expect(response.headers['retry-after']).toBeDefined();
      expect(await rowsOf(down, owner.id)).toHaveLength(1);
      expect(down.tempFiles()).toEqual([]);
      expect((await down.http.get('/api/v1/media/stats').set(owner.headers).expect(200)).body).toEqual(before);
    });

    it('then readiness fails naming the object store, while metadata is still read', async () => {
      const ready = await down.http.get('/readyz').expect(503);
      expect(ready.body.checks['object-store']).toMatch(/^failing/);
      expect((await down.http.get('/api/v1/media').set(owner.headers).expect(200)).body.items).toHaveLength(1);
    });
  });
});

describe('an original streamed to S3 from its file', () => {
  /** A stand-in for S3 that answers each PutObject with the next status, and keeps every body it received whole. */
  const fakeS3 = async (statuses: number[]) => {
    const bodies: Buffer[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        const status = statuses.shift() ?? 200;
        if (status === 200) res.writeHead(200, { ETag: '"e"' }).end();
        else
          res
            .writeHead(status, { 'Content-Type': 'application/xml' })
            .end(
              `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${status === 403 ? 'AccessDenied' : 'SlowDown'}</Code><Message>no</Message></Error>`,
            );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const store = new S3ObjectStore({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      publicEndpoint: undefined,
      region: 'us-east-1',
      bucket: 'media',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    });
    return {
      bodies,
      store,
      close: async () => {
        await store.close();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  };

  let dir: string;
  let file: { path: string; bytes: number; content: Buffer };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'galion-media-s3-file-'));
    const content = await jpeg(600, 400, { noise: true });
    writeFileSync(join(dir, 'original'), content);
    file = { path: join(dir, 'original'), bytes: content.length, content };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when the store fails once on its side (503), then the file is sent again whole, from its start, and stored', async () => {
    const s3 = await fakeS3([503, 200]);
    try {
      await s3.store.put('media/x/original', { path: file.path, bytes: file.bytes }, 'image/jpeg');
      expect(s3.bodies.map((body) => body.equals(file.content))).toEqual([true, true]);
    } finally {
      await s3.close();
    }
  });

  it('when the store refuses it (403), then it is not sent again, and the upload is 503 dependency_unavailable', async () => {
    const s3 = await fakeS3([403, 200]);
    try {
      await expect(s3.store.put('media/x/original', { path: file.path, bytes: file.bytes }, 'image/jpeg')).rejects.toMatchObject({
        status: 503,
        code: 'dependency_unavailable',
      });
      expect(s3.bodies).toHaveLength(1);
    } finally {
      await s3.close();
    }
  });
});
