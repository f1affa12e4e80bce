import { createHash } from 'node:crypto';
import { AppError, unprocessable } from '@galion/kit';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import type { Variant } from '../repositories/media.js';
import { CONTENT_TYPES, detectImageFormat, type ImageFormat } from './formats.js';

/** Longest side of each thumbnail, in pixels; an image smaller than one is never enlarged. */
export const THUMBNAIL_SIZES = { small: 128, medium: 512, large: 1024 } as const;
export type ThumbnailSize = keyof typeof THUMBNAIL_SIZES;
export const THUMBNAIL_TYPE = 'image/webp';

export interface ProcessedVariant {
  bytes: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** SHA-256 of `bytes`, base64url. */
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

/** What sharp's errors mean: libvips's own pixel limit, a format it does not read, or a broken image. */
const classify = (error: unknown, maxPixels: number): AppError => {
  const message = error instanceof Error ? error.message : String(error);
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

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('base64url');

const variant = ({ data, info }: { data: Buffer; info: sharp.OutputInfo }, contentType: string): ProcessedVariant => ({
  bytes: data,
  contentType,
  width: info.width,
  height: info.pageHeight ?? info.height,
  sha256: sha256(data),
});

/** sharp as a server should use it: no cache of past inputs (each upload is new; the cache only holds memory). */
export const configureImageLibrary = (): void => {
  sharp.cache(false);
};

/**
 * An upload, checked and made safe to serve: its format told by its bytes (415 otherwise), its
 * header read once for its dimensions, refused past `maxPixels` before any pixel is decoded (a
 * decompression bomb: 422 image_too_large), then re-encoded in its own format with its
 * orientation applied and every metadata stripped (EXIF GPS positions above all), and three WebP
 * thumbnails. An image that does not decode whole is 422 image_unreadable.
 */
export const processImage = async (input: Buffer, options: { maxPixels: number }): Promise<ProcessedImage> => {
  const format = detectImageFormat(input);
  if (!format) throw unsupportedImage();
  // failOn 'error': a truncated or damaged image stops the decoding (every format), while the
  // benign warnings of many real files (a PNG's incorrect sRGB profile) do not.
  const open: SharpOptions = { limitInputPixels: options.maxPixels, failOn: 'error' };
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { ...open, animated: true }).metadata();
  } catch (error) {
    throw classify(error, options.maxPixels);
  }
  if (!decodedAs(format, metadata)) throw unsupportedImage();
  // With `animated`, the height is every frame's: the limit counts the whole animation.
  if (metadata.width * metadata.height > options.maxPixels) throw imageTooLarge(options.maxPixels);
  const frames = metadata.pages ?? 1;
  const animated = frames > 1 && (format === 'gif' || format === 'webp');
  const contentType = CONTENT_TYPES[format];
  try {
    // An animation keeps its frames (they carry no orientation); a still image is turned upright.
    const original = animated ? sharp(input, { ...open, animated: true }) : sharp(input, open).rotate();
    const [stored, ...thumbnails] = await Promise.all([
      encodeAs(original, format).toBuffer({ resolveWithObject: true }),
      ...Object.values(THUMBNAIL_SIZES).map((size) =>
        sharp(input, open)
          .rotate()
          .resize(size, size, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 80 })
          .toBuffer({ resolveWithObject: true }),
      ),
    ]);
    const [small, medium, large] = thumbnails.map((thumbnail) => variant(thumbnail!, THUMBNAIL_TYPE));
    const originalVariant = variant(stored!, contentType);
    return {
      format,
      contentType,
      width: originalVariant.width,
      height: originalVariant.height,
      frames: animated ? frames : 1,
      variants: { original: originalVariant, small: small!, medium: medium!, large: large! },
    };
  } catch (error) {
    throw classify(error, options.maxPixels);
  }
};
