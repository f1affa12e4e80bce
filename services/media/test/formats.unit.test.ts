import { detectImageFormat } from '../src/domain/formats';
import { objectKey, objectKeys, parseObjectKey } from '../src/domain/keys';

const bytes = (...parts: (number[] | string)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

/** An ISO-BMFF `ftyp` box: its size, `ftyp`, the major brand, a version and the compatible brands. */
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], compatible.join(''), [0, 0, 0, 8], 'mdat');
};

describe('telling an image by its first bytes', () => {
  it.each([
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'), 'jpeg'],
    ['PNG', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 'IHDR'), 'png'],
    ['GIF87a', bytes('GIF87a', [1, 0, 1, 0]), 'gif'],
    ['GIF89a', bytes('GIF89a', [1, 0, 1, 0]), 'gif'],
    ['WebP', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '), 'webp'],
    ['AVIF (major brand avif)', ftyp('avif', 'mif1', 'miaf'), 'avif'],
    ['AVIF sequence (major brand avis)', ftyp('avis', 'msf1'), 'avif'],
    ['AVIF named among the compatible brands', ftyp('mif1', 'miaf', 'avif'), 'avif'],
  ])('when the bytes begin as a %s does, then it is %s', (_name, input, format) => {
    expect(detectImageFormat(input)).toBe(format);
  });

  it.each([
    ['a Linux executable (ELF)', bytes([0x7f], 'ELF', [2, 1, 1, 0])],
    ['a PDF', bytes('%PDF-1.7\n')],
    ['an SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['a HEIC photo (same container, other brands)', ftyp('heic', 'mif1', 'heic')],
    ['an MP4 video', ftyp('isom', 'iso2', 'mp41')],
    ['a RIFF that is a WAV', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['a TIFF', bytes('II*\0', [8, 0, 0, 0])],
    ['a BMP', bytes('BM', [0, 0, 0, 0])],
    ['two bytes of a JPEG', bytes([0xff, 0xd8])],
    ['nothing', bytes()],
    ['an ftyp box whose size runs past the bytes', bytes([0, 0, 1, 0], 'ftyp', 'mif1', [0, 0, 0, 0], 'avif')],
  ])('when the bytes are %s, then they are not an image the service takes', (_name, input) => {
    expect(detectImageFormat(input)).toBeUndefined();
  });
});

describe('object keys', () => {
  const id = '0190c8f2-4b5e-7a00-8c1d-1234567890ab';

  it('when an image is stored, then its four objects are keyed by its id and variant under media/', () => {
    expect(objectKeys(id)).toEqual([`media/${id}/original`, `media/${id}/small`, `media/${id}/medium`, `media/${id}/large`]);
    expect(parseObjectKey(objectKey(id, 'medium'))).toEqual({ id, variant: 'medium' });
  });

  it.each([
    ['media/not-an-id/original'],
    [`media/${id}/huge`],
    [`other/${id}/original`],
    [`media/${id}/original/x`],
    [`media/${id.toUpperCase()}/small`],
  ])('when a key is %s, then it is not one of the service’s', (key) => {
    expect(parseObjectKey(key)).toBeUndefined();
  });
});
