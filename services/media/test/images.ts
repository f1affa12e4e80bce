import sharp from 'sharp';

/** Test images, made in code: a plain colour or noise (which compresses badly, for byte quotas). */
const canvas = (width: number, height: number, options: { noise?: boolean; alpha?: boolean } = {}) =>
  sharp({
    create: {
      width,
      height,
      channels: options.alpha ? 4 : 3,
      background: { r: 40, g: 160, b: 90, alpha: 1 },
      ...(options.noise ? { noise: { type: 'gaussian' as const, mean: 128, sigma: 60 } } : {}),
    },
  });

export const jpeg = (width = 64, height = 48, options: { noise?: boolean } = {}) => canvas(width, height, options).jpeg().toBuffer();
export const png = (width = 64, height = 48, options: { noise?: boolean } = {}) =>
  canvas(width, height, { alpha: true, ...options })
    .png()
    .toBuffer();
export const webp = (width = 64, height = 48, options: { noise?: boolean } = {}) => canvas(width, height, options).webp().toBuffer();
export const gif = (width = 64, height = 48, options: { noise?: boolean } = {}) =>
  canvas(width, height, { alpha: true, ...options })
    .gif()
    .toBuffer();
export const avif = (width = 64, height = 48, options: { noise?: boolean } = {}) =>
  canvas(width, height, options).avif({ effort: 0 }).toBuffer();

/** A GIF of two frames. */
export const animatedGif = async (width = 32, height = 32) => {
  const frame = (r: number) =>
    sharp({ create: { width, height, channels: 4, background: { r, g: 0, b: 0, alpha: 1 } } })
      .png()
      .toBuffer();
  return sharp([await frame(255), await frame(0)], { join: { animated: true } })
    .gif()
    .toBuffer();
};

export const IMAGE_MAKERS = { jpeg, png, webp, gif, avif } as const;

/**
 * A photo as a phone takes it: a JPEG 200 wide and 100 high whose EXIF says "rotate 90° to show
 * it" (Orientation 6), with the camera's make and a GPS position (48°51'30"N 2°21'0"E).
 */
export const photoWithGps = () =>
  canvas(200, 100)
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'Galion Camera' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' },
    })
    .toBuffer();

/**
 * A decompression bomb: a PNG of 10,000 × 10,000 pixels of one colour, about 300 kB on the wire,
 * 300 MB of pixels once decoded.
 */
export const pngBomb = () =>
  sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#ffffff' } })
    .png({ compressionLevel: 9 })
    .toBuffer();

/** The first bytes of a Linux executable (an ELF header) and some more. */
export const elfBinary = () =>
  Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]),
    Buffer.alloc(8),
    Buffer.from('\x02\x00\x3e\x00'),
    Buffer.alloc(2_000, 0x90),
  ]);

/**
 * Whether raw EXIF (as sharp's metadata().exif gives it: `Exif\0\0` and a TIFF structure) has a
 * GPS directory: IFD0 holds a GPSInfo pointer (tag 0x8825).
 */
export const exifHasGps = (exif: Buffer | undefined): boolean => {
  if (!exif) return false;
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (offset: number) => (little ? tiff.readUInt16LE(offset) : tiff.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? tiff.readUInt32LE(offset) : tiff.readUInt32BE(offset));
  const ifd0 = u32(4);
  const entries = u16(ifd0);
  for (let index = 0; index < entries; index += 1) if (u16(ifd0 + 2 + index * 12) === 0x8825) return true;
  return false;
};
