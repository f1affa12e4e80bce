import { VARIANTS, type Variant } from '../repositories/media.js';

/** Every object of the service lives under this prefix of its bucket (or directory); the sweep lists it. */
export const KEY_PREFIX = 'media/';

const KEY = /^media\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(original|small|medium|large)$/;

/** An object's key: made of the image's id (a UUIDv7 the service generated) and the variant, never of anything a caller sent. */
export const objectKey = (id: string, variant: Variant): string => `${KEY_PREFIX}${id}/${variant}`;

export const objectKeys = (id: string): string[] => VARIANTS.map((variant) => objectKey(id, variant));

/** The image and variant of a key of the service; undefined for any other key. */
export const parseObjectKey = (key: string): { id: string; variant: Variant } | undefined => {
  const match = KEY.exec(key);
  return match ? { id: match[1]!, variant: match[2] as Variant } : undefined;
};
