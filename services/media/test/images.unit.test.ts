import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processImage } from '../src/domain/images';
import { Slots } from '../src/domain/slots';
import { jpeg } from './images';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'galion-media-images-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const options = { maxPixels: 50_000_000, operations: new Slots(2) };

describe('processing an upload from its file', () => {
  it('when an image is processed, then the original is in its file with the size and hash told, and the thumbnails in memory', async () => {
    const body = join(dir, 'a.body');
    writeFileSync(body, await jpeg(300, 200));

    const image = await processImage({ body, original: join(dir, 'a.original') }, options);

    expect(image.variants.original.body).toEqual({ path: join(dir, 'a.original'), bytes: image.variants.original.bytes });
    expect(Buffer.isBuffer(image.variants.small.body)).toBe(true);
    const stored = readFileSync(join(dir, 'a.original'));
    expect([stored.length, image.variants.original.sha256]).toEqual([
      image.variants.original.bytes,
      createHash('sha256').update(stored).digest('base64url'),
    ]);
  });

  it('when the re-encoded original cannot be written, then 503 dependency_unavailable: the disk failed, not the image (never 422)', async () => {
    const body = join(dir, 'a.body');
    writeFileSync(body, await jpeg(300, 200));

    await expect(processImage({ body, original: join(dir, 'gone', 'a.original') }, options)).rejects.toMatchObject({
      status: 503,
      code: 'dependency_unavailable',
    });
  });
});
