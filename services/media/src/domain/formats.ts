/**
 * The image formats the service takes, told by their first bytes (never by a file name or a
 * declared type): JPEG, PNG, WebP, GIF and AVIF. Pure, so each signature is unit-tested.
 */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

export const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export const EXTENSIONS: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', avif: 'avif' };

const startsWith = (bytes: Buffer, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((byte, index) => bytes[offset + index] === byte);

const ascii = (text: string): number[] => [...text].map((character) => character.charCodeAt(0));

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');
const FTYP = ascii('ftyp');
const AVIF_BRANDS = new Set(['avif', 'avis']);

/**
 * AVIF is an ISO-BMFF file whose first box is `ftyp` naming `avif` (a still image) or `avis` (a
 * sequence) as its major brand or among its compatible brands. HEIC shares the container and is
 * refused: its brands are others (heic, heix, mif1 alone).
 */
const isAvif = (bytes: Buffer): boolean => {
  if (!startsWith(bytes, FTYP, 4)) return false;
  const boxSize = bytes.readUInt32BE(0);
  if (boxSize < 16 || boxSize > bytes.length || boxSize % 4 !== 0) return false;
  const brand = (offset: number) => bytes.toString('latin1', offset, offset + 4);
  if (AVIF_BRANDS.has(brand(8))) return true;
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) if (AVIF_BRANDS.has(brand(offset))) return true;
  return false;
};

/** The format these bytes begin with, or undefined when they are none of the five. */
export const detectImageFormat = (bytes: Buffer): ImageFormat | undefined => {
  if (startsWith(bytes, JPEG)) return 'jpeg';
  if (startsWith(bytes, PNG)) return 'png';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'webp';
  if (isAvif(bytes)) return 'avif';
  return undefined;
};
