import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { AppError, isAppError, unprocessable } from '@galion/kit';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import type { Variant } from '../repositories/media.js';
import type { ObjectBody } from '../storage/object-store.js';
import { temporaryStorageUnavailable } from '../storage/temp-files.js';
import { CONTENT_TYPES, detectImageFormat, type ImageFormat } from './formats.js';
import type { Slots } from './slots.js';

/** Longest side of each thumbnail, in pixels; an image smaller than one is never enlarged. */
export const THUMBNAIL_SIZES = { small: 128, medium: 512, large: 1024 } as const;
export type ThumbnailSize = keyof typeof THUMBNAIL_SIZES;
export const THUMBNAIL_TYPE = 'image/webp';

export interface ProcessedVariant {
  /** What is stored: a thumbnail's bytes (at most 1,024 pixels a side: small), or the file of the re-encoded original. */
  body: ObjectBody;
  /** Its size in bytes. */
  bytes: number;
  contentType: string;
  width: number;
  height: number;
  /** SHA-256 of its bytes, base64url. */
  sha256: string;
}

export interface ProcessedImage {
  format: ImageFormat;
  contentType: string;
  width: number;
  height: number;
  /** Frames of an animated GIF or WebP (kept in the original; thumbnails show the first); 1 otherwise. */
  frames: number;
  variants: Record<Variant, ProcessedVariant>;
}

export const unsupportedImage = () =>
  new AppError(
    415,
    'unsupported_image',
    'The file is not a JPEG, PNG, WebP, GIF or AVIF image (told by its bytes, not by its name or type).',
  );
export const imageTooLarge = (maxPixels: number) =>
  unprocessable(
    'image_too_large',
    `The image has more than ${maxPixels.toLocaleString('en')} pixels (width × height, every frame counted).`,
  );
export const imageUnreadable = () => unprocessable('image_unreadable', 'The image could not be decoded: it is truncated or damaged.');

/**
 * What sharp's errors mean: a file it could not read or write (libvips names a failed system call
 * "system error", older versions "unix error"; the image is not at fault), libvips's own pixel
 * limit, a format it does not read, or a broken image.
 */
const classify = (error: unknown, maxPixels: number): AppError => {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/\b(system|unix) error:|input file is missing/i.test(message)) return temporaryStorageUnavailable(error);
  if (/exceeds pixel limit/i.test(message)) return imageTooLarge(maxPixels);
  if (/unsupported image format/i.test(message)) return unsupportedImage();
  return imageUnreadable();
};

/** Whether libvips read the format the first bytes announced (an AVIF is a HEIF compressed with AV1). */
const decodedAs = (format: ImageFormat, metadata: Metadata): boolean =>
  format === 'avif' ? metadata.format === 'heif' && metadata.compression === 'av1' : metadata.format === format;

/** The original's encoding: its own format, without any of the input's metadata (EXIF, GPS, XMP, IPTC, ICC: sharp strips them). */
const encodeAs = (image: Sharp, format: ImageFormat): Sharp => {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: 90 });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality: 90 });
    case 'gif':
      return image.gif();
    case 'avif':
      // AV1 encoding is slow: effort 2 of 9 keeps an upload in the order of a second.
      return image.avif({ quality: 60, effort: 2 });
  }
};

const thumbnail = ({ data, info }: { data: Buffer; info: sharp.OutputInfo }): ProcessedVariant => ({
  body: data,
  bytes: data.length,
  contentType: THUMBNAIL_TYPE,
  width: info.width,
  height: info.pageHeight ?? info.height,
  sha256: createHash('sha256').update(data).digest('base64url'),
});

/** The SHA-256 of a file, read a chunk at a time. */
const sha256OfFile = async (path: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('base64url');
};

/** Bytes enough for every signature detectImageFormat knows: an AVIF's ftyp box lists a few brands in a few dozen bytes. */
const HEAD_BYTES = 4_096;

const readHead = async (path: string): Promise<Buffer> => {
  const file = await openFile(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
};

/** sharp as a server should use it: no cache of past inputs (each upload is new; the cache only holds memory). */
export const configureImageLibrary = (): void => {
  sharp.cache(false);
};

/** An upload's files: its body as received, and where its re-encoded original is written. */
export interface ImageFiles {
  body: string;
  original: string;
}

/**
 * An upload, checked and made safe to serve: its format told by its first bytes (415 otherwise),
 * its header read once for its dimensions, refused past `maxPixels` before any pixel is decoded (a
 * decompression bomb: 422 image_too_large), then re-encoded in its own format with its
 * orientation applied and every metadata stripped (EXIF GPS positions above all), into the file
 * `files.original`, and three WebP thumbnails. An image that does not decode whole is 422
 * image_unreadable. libvips reads the body from its file, never from a copy in memory, and
 * writes the original to its file as it encodes it. Each of sharp's operations takes one of
 * `operations`' slots while it runs.
 */
export const processImage = async (files: ImageFiles, options: { maxPixels: number; operations: Slots }): Promise<ProcessedImage> => {
  const { operations } = options;
  let format: ImageFormat | undefined;
  try {
    format = detectImageFormat(await readHead(files.body));
  } catch (error) {
    throw temporaryStorageUnavailable(error);
  }
  if (!format) throw unsupportedImage();
  // failOn 'error': a truncated or damaged image stops the decoding (every format), while the
  // benign warnings of many real files (a PNG's incorrect sRGB profile) do not. Sequential reads
  // (sharp's default, set so that it stays) let libvips decode a strip at a time where the
  // operations allow, rather than the whole image at once.
  const open: SharpOptions = { limitInputPixels: options.maxPixels, failOn: 'error', sequentialRead: true };
  let metadata: Metadata;
  try {
    metadata = await operations.run(() => sharp(files.body, { ...open, animated: true }).metadata());
  } catch (error) {
    throw classify(error, options.maxPixels);
  }
  if (!decodedAs(format, metadata)) throw unsupportedImage();
  // With `animated`, the height is every frame's: the limit counts the whole animation.
  if (metadata.width * metadata.height > options.maxPixels) throw imageTooLarge(options.maxPixels);
  const frames = metadata.pages ?? 1;
  const animated = frames > 1 && (format === 'gif' || format === 'webp');
  const contentType = CONTENT_TYPES[format];
  // An animation keeps its frames (they carry no orientation); a still image is turned upright.
  const original = animated ? sharp(files.body, { ...open, animated: true }) : sharp(files.body, open).rotate();
  // Settled all, so that no encoding still writes a file when the caller removes them.
  const outcomes = await Promise.allSettled([
    operations
      .run(() => encodeAs(original, format).toFile(files.original))
      .then(async (info): Promise<ProcessedVariant> => ({
        body: { path: files.original, bytes: info.size },
        bytes: info.size,
        contentType,
        width: info.width,
        height: info.pageHeight ?? info.height,
        sha256: await sha256OfFile(files.original).catch((error: unknown) => {
          throw temporaryStorageUnavailable(error);
        }),
      })),
    ...Object.values(THUMBNAIL_SIZES).map((size) =>
      operations
        .run(() =>
          sharp(files.body, open)
            .rotate()
            .resize(size, size, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: 80 })
            .toBuffer({ resolveWithObject: true }),
        )
        .then(thumbnail),
    ),
  ]);
  // A thumbnail's failure first: it writes no file, so it is the image's (the original's may be the disk's).
  const failure = [...outcomes.slice(1), outcomes[0]!].find((outcome) => outcome.status === 'rejected');
  if (failure) throw classify(failure.reason, options.maxPixels);
  const [originalVariant, small, medium, large] = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<ProcessedVariant>).value);
  return {
    format,
    contentType,
    width: originalVariant!.width,
    height: originalVariant!.height,
    frames: animated ? frames : 1,
    variants: { original: originalVariant!, small: small!, medium: medium!, large: large! },
  };
};
