import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TEMP_SUBDIR } from '../src/storage/temp-files';
import { download, eventually, outboxEvents, rowsOf, startMedia, uploaded, type Caller, type MediaHarness } from './harness';
import { animatedGif, elfBinary, exifHasGps, IMAGE_MAKERS, jpeg, photoWithGps, png, pngBomb } from './images';

/** Six text parts, one with a name of control bytes and broken UTF-8 (a fuzzer's case). */
const MALFORMED_MULTIPART =
  'LS05ZjM1MDc3NTczY2MzZWM0ZTA0ZTEwM2EyOTI0NGJhZA0KQ29udGVudC1EaXNwb3NpdGlvbjogZm9ybS1kYXRhOyBuYW1lPSLD' +
  'hz8mQvOFi4xEwolAIg0KDQpbXQ0KLS05ZjM1MDc3NTczY2MzZWM0ZTA0ZTEwM2EyOTI0NGJhZA0KQ29udGVudC1EaXNwb3NpdGlv' +
  'bjogZm9ybS1kYXRhOyBuYW1lPSLwkI+Pw5wfIg0KDQpbZmFsc2UsIC02LjM1OTQ3NTY0MzM1MzMyNGUrMTZdDQotLTlmMzUwNzc1' +
  'NzNjYzNlYzRlMDRlMTAzYTI5MjQ0YmFkDQpDb250ZW50LURpc3Bvc2l0aW9uOiBmb3JtLWRhdGE7IG5hbWU9IvCQj4/DnB8iDQoN' +
  'Cnt9DQotLTlmMzUwNzc1NzNjYzNlYzRlMDRlMTAzYTI5MjQ0YmFkDQpDb250ZW50LURpc3Bvc2l0aW9uOiBmb3JtLWRhdGE7IG5h' +
  'bWU9IvCQj4/DnB8iDQoNCnt9DQotLTlmMzUwNzc1NzNjYzNlYzRlMDRlMTAzYTI5MjQ0YmFkDQpDb250ZW50LURpc3Bvc2l0aW9u' +
  'OiBmb3JtLWRhdGE7IG5hbWU9IsONIg0KDQrwsrSQTfGjmJYNCi0tOWYzNTA3NzU3M2NjM2VjNGUwNGUxMDNhMjkyNDRiYWQNCkNv' +
  'bnRlbnQtRGlzcG9zaXRpb246IGZvcm0tZGF0YTsgbmFtZT0iw40iDQoNCnRydWUNCi0tOWYzNTA3NzU3M2NjM2VjNGUwNGUxMDNh' +
  'MjkyNDRiYWQtLQ0K';

jest.setTimeout(60_000);

const MAX_UPLOAD = 524_288;

let h: MediaHarness;
beforeAll(async () => {
  h = await startMedia({ env: { MEDIA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } });
});
afterAll(async () => {
  await h.close();
});

/** Nothing of `caller` was stored: no row, no usage, no object beyond those of `keysBefore`, no temporary file. */
const expectNothingStored = async (caller: Caller, keysBefore: string[]) => {
  expect(h.tempFiles()).toEqual([]);
  expect(await rowsOf(h, caller.id)).toEqual([]);
  expect((await h.http.get('/api/v1/media/stats').set(caller.headers).expect(200)).body).toMatchObject({ files: 0, bytes: 0 });
  expect(await h.storedKeys()).toEqual(keysBefore);
};

describe('POST /api/v1/media: formats, told by their bytes', () => {
  it.each(Object.keys(IMAGE_MAKERS) as (keyof typeof IMAGE_MAKERS)[])(
    'when a %s is uploaded as the raw body, then it is stored in its own format with its dimensions, four objects and a media.uploaded event, and no temporary file is left',
    async (format) => {
      const caller = await h.caller();
      const body = await uploaded(h, caller, await IMAGE_MAKERS[format](64, 48), `image/${format}`);

      expect(body).toMatchObject({ owner_id: caller.id, content_type: `image/${format}`, width: 64, height: 48 });
      expect(body.sizes.original).toEqual({ content_type: `image/${format}`, width: 64, height: 48, bytes: body.bytes });
      expect(h.tempFiles()).toEqual([]);
      const stored = await sharp(await download(h, caller, body.id)).metadata();
      expect(format === 'avif' ? [stored.format, stored.compression] : [stored.format]).toEqual(
        format === 'avif' ? ['heif', 'av1'] : [format],
      );
      expect(await h.storedKeys()).toEqual(
        expect.arrayContaining(['original', 'small', 'medium', 'large'].map((v) => `media/${body.id}/${v}`)),
      );
      expect(await outboxEvents(h, body.id)).toEqual([
        {
          type: 'media.uploaded',
          subject: caller.id,
          data: { media_id: body.id, content_type: `image/${format}`, bytes: body.bytes, width: 64, height: 48 },
        },
      ]);
    },
  );

  it('when an image is sent as the part file of a multipart/form-data body, then it is stored the same way', async () => {
    const caller = await h.caller();
    const response = await h.http
      .post('/api/v1/media')
      .set(caller.headers)
      .field('caption', 'ignored')
      .attach('file', await png(30, 20), { filename: 'holiday.exe', contentType: 'application/octet-stream' })
      .expect(201);
    expect(response.body).toMatchObject({ content_type: 'image/png', width: 30, height: 20 });
    expect(response.headers.location).toBe(`/api/v1/media/${response.body.id}`);
    expect(h.tempFiles()).toEqual([]);
  });

  it('when the declared type lies (a PNG sent as image/jpeg), then the bytes decide: it is a PNG', async () => {
    const caller = await h.caller();
    expect((await uploaded(h, caller, await png(), 'image/jpeg')).content_type).toBe('image/png');
  });

  it('when an animated GIF is uploaded, then its frames are kept in the original and its thumbnails show the first', async () => {
    const caller = await h.caller();
    const body = await uploaded(h, caller, await animatedGif(32, 32), 'image/gif');
    expect(body).toMatchObject({ width: 32, height: 32 });
    expect((await sharp(await download(h, caller, body.id), { animated: true }).metadata()).pages).toBe(2);
    expect((await sharp(await download(h, caller, body.id, 'small')).metadata()).pages ?? 1).toBe(1);
  });
});

describe('POST /api/v1/media: what is refused, and that nothing is left of it', () => {
  it('when an executable is sent as image/png, then 415 unsupported_image, and nothing is stored', async () => {
    const caller = await h.caller();
    const keys = await h.storedKeys();
    const response = await h.upload(caller, elfBinary(), 'image/png').expect(415);
    expect(response.body.error).toBe('unsupported_image');
    await expectNothingStored(caller, keys);
  });

  it('when an executable is the file of a multipart body named photo.png, then 415 unsupported_image', async () => {
    const caller = await h.caller();
    const response = await h.http
      .post('/api/v1/media')
      .set(caller.headers)
      .attach('file', elfBinary(), { filename: 'photo.png', contentType: 'image/png' })
      .expect(415);
    expect(response.body.error).toBe('unsupported_image');
    expect(h.tempFiles()).toEqual([]);
  });

  it('when the body is neither image/* nor multipart (text/plain, JSON), then 415 unsupported_media_type', async () => {
    const caller = await h.caller();
    expect((await h.upload(caller, Buffer.from('hello'), 'text/plain').expect(415)).body.error).toBe('unsupported_media_type');
    expect((await h.http.post('/api/v1/media').set(caller.headers).send({ image: 'x' }).expect(415)).body.error).toBe(
      'unsupported_media_type',
    );
  });

  it.each(Object.keys(IMAGE_MAKERS) as (keyof typeof IMAGE_MAKERS)[])(
    'when a %s is cut short, then 422 image_unreadable, and nothing is stored',
    async (format) => {
      const caller = await h.caller();
      const keys = await h.storedKeys();
      const whole = await IMAGE_MAKERS[format](400, 300, { noise: true });
      const response = await h.upload(caller, whole.subarray(0, Math.floor(whole.length * 0.9)), `image/${format}`).expect(422);
      expect(response.body.error).toBe('image_unreadable');
      await expectNothingStored(caller, keys);
    },
  );

  it('when a PNG of 300 kB declares 10,000 × 10,000 pixels (a decompression bomb), then 422 image_too_large, and nothing is stored', async () => {
    const caller = await h.caller();
    const keys = await h.storedKeys();
    const bomb = await pngBomb();
    expect(bomb.length).toBeLessThan(MAX_UPLOAD);
    const response = await h.upload(caller, bomb, 'image/png').expect(422);
    expect(response.body.error).toBe('image_too_large');
    expect(response.body.message).toContain('50,000,000');
    await expectNothingStored(caller, keys);
  });

  it('when the body is empty, or a multipart body has no part file, then 400 validation_failed naming it', async () => {
    const caller = await h.caller();
    expect((await h.upload(caller, Buffer.alloc(0), 'image/png').expect(400)).body.error).toBe('validation_failed');
    const noFile = await h.http.post('/api/v1/media').set(caller.headers).field('caption', 'x').expect(400);
    expect(noFile.body.details).toEqual([expect.objectContaining({ path: 'body.file' })]);
    const otherPart = await h.http
      .post('/api/v1/media')
      .set(caller.headers)
      .attach('image', await png(), 'a.png')
      .expect(400);
    expect(otherPart.body.details).toEqual([expect.objectContaining({ path: 'body.image' })]);
    expect(h.tempFiles()).toEqual([]);
  });

  it('when a multipart part header is malformed (control bytes in a name), then 400 malformed_multipart and the service carries on', async () => {
    const caller = await h.caller();
    // As the contract run's fuzzer sent it: busboy reports the malformed header twice, and the
    // second report, unheard, ended the process.
    const body = Buffer.from(MALFORMED_MULTIPART, 'base64');

    const response = await h.http
      .post('/api/v1/media')
      .set(caller.headers)
      .set('Content-Type', 'multipart/form-data; boundary=9f35077573cc3ec4e04e103a29244bad')
      .send(body)
      .expect(400);

    expect(response.body.error).toBe('malformed_multipart');
    await new Promise((resolve) => setImmediate(resolve));
    await uploaded(h, caller, await png());
  });

  it('when there is no token, then 401, and the body is not taken', async () => {
    expect(
      (
        await h.http
          .post('/api/v1/media')
          .set('Content-Type', 'image/png')
          .send(await png())
          .expect(401)
      ).body.error,
    ).toBe('token_missing');
  });
});

/** Sends a request by hand: the headers now, the body as the test writes it; resolves with the answer and its body. */
const rawRequest = (url: string, path: string, headers: Record<string, string | number>) => {
  const request = httpRequest(`${url}${path}`, { method: 'POST', headers });
  const answer = new Promise<{ response: IncomingMessage; body: string }>((resolve, reject) => {
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => resolve({ response, body: Buffer.concat(chunks).toString() }));
      response.once('error', reject);
    });
    request.once('error', reject);
  });
  return { request, answer };
};

describe('POST /api/v1/media: the size limit (MEDIA_MAX_UPLOAD_BYTES)', () => {
  it('when Content-Length says the body is over the limit, then 413 comes before a byte of it is sent, and the connection closes', async () => {
    const caller = await h.caller();
    const { request, answer } = rawRequest(h.url, '/api/v1/media', {
      ...caller.headers,
      'Content-Type': 'image/jpeg',
      'Content-Length': MAX_UPLOAD + 1,
    });
    request.flushHeaders();
    const { response, body } = await answer;
    request.destroy();
    expect(response.statusCode).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(body).error).toBe('payload_too_large');
    expect(await rowsOf(h, caller.id)).toEqual([]);
    expect(h.tempFiles()).toEqual([]);
  });

  it.each([
    ['a raw body', 'image/jpeg'],
    ['a multipart body', 'multipart/form-data; boundary=galion'],
  ])(
    'when %s of unknown length streams past the limit, then 413 comes while the client is still sending, the rest unread, and what was written of it is removed',
    async (_kind, type) => {
      const caller = await h.caller();
      const { request, answer } = rawRequest(h.url, '/api/v1/media', {
        ...caller.headers,
        'Content-Type': type,
        'Transfer-Encoding': 'chunked',
      });
      if (type.startsWith('multipart'))
        request.write('--galion\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n');
      request.write(Buffer.from([0xff, 0xd8, 0xff]));
      // Twice the limit is written, a chunk at a time, until the answer comes; the request is never ended.
      let sent = 0;
      let answered = false;
      void answer.finally(() => (answered = true));
      const chunk = Buffer.alloc(16_384, 0x41);
      while (!answered && sent < MAX_UPLOAD * 2) {
        request.write(chunk);
        sent += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const { response, body } = await answer;
      request.destroy();
      expect(response.statusCode).toBe(413);
      expect(JSON.parse(body).error).toBe('payload_too_large');
      expect(sent).toBeLessThan(MAX_UPLOAD * 2);
      expect(await rowsOf(h, caller.id)).toEqual([]);
      expect(h.tempFiles()).toEqual([]);
    },
  );

  it('when an image is exactly at the limit, then it is taken', async () => {
    const caller = await h.caller();
    const image = await jpeg(64, 48);
    // Padding after the JPEG's end marker: decoders ignore it, so the image is the same.
    const exact = Buffer.concat([image, Buffer.alloc(MAX_UPLOAD - image.length)]);
    await uploaded(h, caller, exact);
    await h.upload(caller, Buffer.concat([exact, Buffer.from([0])])).expect(413);
  });
});

describe('POST /api/v1/media: what is stored of an image', () => {
  it('when a photo carries EXIF with a GPS position and an orientation, then the stored original has no EXIF at all and is upright', async () => {
    const caller = await h.caller();
    const photo = await photoWithGps();
    const sent = await sharp(photo).metadata();
    expect([sent.width, sent.height, sent.orientation, exifHasGps(sent.exif)]).toEqual([200, 100, 6, true]);

    const body = await uploaded(h, caller, photo);
    expect([body.width, body.height]).toEqual([100, 200]);
    for (const size of ['original', 'small', 'medium', 'large']) {
      const served = await sharp(await download(h, caller, body.id, size)).metadata();
      expect({ size, exif: served.exif, xmp: served.xmp, iptc: served.iptc, orientation: served.orientation }).toEqual({
        size,
        exif: undefined,
        xmp: undefined,
        iptc: undefined,
        orientation: undefined,
      });
    }
    expect((await download(h, caller, body.id)).includes(Buffer.from('Galion Camera'))).toBe(false);
  });

  it('when a 2000 × 1000 image is uploaded, then its thumbnails are WebP of 128, 512 and 1024 pixels on the longest side', async () => {
    const caller = await h.caller();
    const body = await uploaded(h, caller, await jpeg(2_000, 1_000));
    const sizes = { small: [128, 64], medium: [512, 256], large: [1_024, 512] } as const;
    for (const [size, [width, height]] of Object.entries(sizes)) {
      expect(body.sizes[size as keyof typeof sizes]).toMatchObject({ content_type: 'image/webp', width, height });
      const served = await sharp(await download(h, caller, body.id, size)).metadata();
      expect([served.format, served.width, served.height]).toEqual(['webp', width, height]);
    }
  });

  it('when an image is smaller than a thumbnail size, then that thumbnail is never enlarged', async () => {
    const caller = await h.caller();
    const body = await uploaded(h, caller, await png(300, 200), 'image/png');
    expect(body.sizes.small).toMatchObject({ width: 128, height: 85 });
    expect(body.sizes.medium).toMatchObject({ width: 300, height: 200 });
    expect(body.sizes.large).toMatchObject({ width: 300, height: 200 });
  });

  it('when an image is downloaded, then it has a strong ETag, and 304 when If-None-Match names it', async () => {
    const caller = await h.caller();
    const body = await uploaded(h, caller, await jpeg());
    const first = await h.http.get(`/api/v1/media/${body.id}/content`).set(caller.headers).expect(200);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(first.headers['content-type']).toBe('image/jpeg');
    expect(first.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(Number(first.headers['content-length'])).toBe(body.bytes);
    await h.http.get(`/api/v1/media/${body.id}/content`).set(caller.headers).set('If-None-Match', first.headers.etag!).expect(304);
    const small = await h.http.get(`/api/v1/media/${body.id}/content?size=small`).set(caller.headers).expect(200);
    expect(small.headers.etag).not.toBe(first.headers.etag);
    expect((await h.http.get(`/api/v1/media/${body.id}/content?size=huge`).set(caller.headers).expect(400)).body.error).toBe(
      'validation_failed',
    );
  });
});

describe('POST /api/v1/media: the body goes through a temporary file, never kept in memory', () => {
  /** The size of the one body file in MEDIA_TMP_DIR, once it holds `bytes`. */
  const bodyFileHolds = (bytes: number) =>
    eventually(
      () => h.tempFiles().some((file) => file.endsWith('.body') && statSync(join(h.tmpDir, file)).size === bytes),
      10_000,
      `a temporary body file of ${bytes} bytes`,
    );

  it('when an upload is held mid-body, then what has arrived is in its temporary file; when the rest comes, it is stored and the file is gone', async () => {
    const caller = await h.caller();
    const image = await jpeg(400, 300, { noise: true });
    const half = Math.floor(image.length / 2);
    const { request, answer } = rawRequest(h.url, '/api/v1/media', {
      ...caller.headers,
      'Content-Type': 'image/jpeg',
      'Content-Length': image.length,
    });
    request.write(image.subarray(0, half));

    await bodyFileHolds(half);
    request.end(image.subarray(half));

    const { response } = await answer;
    expect(response.statusCode).toBe(201);
    expect(h.tempFiles()).toEqual([]);
  });

  it('when the client goes away mid-body, then the upload is abandoned and its temporary file removed', async () => {
    const caller = await h.caller();
    const image = await jpeg(400, 300, { noise: true });
    const { request, answer } = rawRequest(h.url, '/api/v1/media', {
      ...caller.headers,
      'Content-Type': 'image/jpeg',
      'Content-Length': image.length,
    });
    answer.catch(() => undefined);
    request.write(image.subarray(0, 1_000));
    await bodyFileHolds(1_000);

    request.destroy();

    await eventually(() => h.tempFiles().length === 0, 10_000, 'the temporary file to be removed');
    expect(await rowsOf(h, caller.id)).toEqual([]);
  });

  it('when the temporary directory cannot be written (a file in its place), then 503 dependency_unavailable with Retry-After, and nothing is stored', async () => {
    const caller = await h.caller();
    const keys = await h.storedKeys();
    const base = join(h.tmpDir, TEMP_SUBDIR);
    const [own] = readdirSync(base);
    renameSync(join(base, own!), join(base, 'moved'));
    writeFileSync(join(base, own!), 'not a directory');
    try {
      const response = await h.upload(caller, await jpeg()).expect(503);
      expect(response.body.error).toBe('dependency_unavailable');
      expect(response.headers['retry-after']).toBeDefined();
      expect(await rowsOf(h, caller.id)).toEqual([]);
      expect(await h.storedKeys()).toEqual(keys);
    } finally {
      rmSync(join(base, own!));
      renameSync(join(base, 'moved'), join(base, own!));
    }
    await uploaded(h, caller, await jpeg());
  });

  it('when the service starts, then it removes the temporary files an earlier process left, and nothing else of MEDIA_TMP_DIR', async () => {
    const tmpDir = mkdtempSync(join(tmpdir(), 'galion-media-leftovers-'));
    // Above Linux's largest pid (2^22): the process that left it is not running.
    const leftover = join(tmpDir, TEMP_SUBDIR, '4194305-0123456789abcdef');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, '0a1b2c.body'), 'half an image');
    writeFileSync(join(tmpDir, 'someone-else.txt'), 'kept');
    const restarted = await startMedia({ env: { MEDIA_TMP_DIR: tmpDir } });
    try {
      expect(existsSync(leftover)).toBe(false);
      expect(existsSync(join(tmpDir, 'someone-else.txt'))).toBe(true);
    } finally {
      await restarted.close();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });
});
