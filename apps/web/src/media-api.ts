/**
 * The calls of the images and the avatar (docs/media.md), each through `api` like every other call
 * of the app, and what the app checks of a file before it sends it.
 */
import { api, ApiError } from './api';
import { withQuery } from './data';
import type { Avatar, Media, MediaSize } from './types';
import { FormError } from './ui';

const BASE = '/api/v1/media';

/** The paths the pages read (the list takes `cursor` from its `next_cursor`). */
export const mediaPaths = {
  list: BASE,
  stats: `${BASE}/stats`,
  content: (id: string, size: MediaSize) => withQuery(`${BASE}/${encodeURIComponent(id)}/content`, { size }),
  avatar: `${BASE}/avatar`,
};

/**
 * What media takes: `MEDIA_MAX_UPLOAD_BYTES` by default (the gateway stops anything larger whatever
 * media's setting), and the formats it reads. The server tells the format by the bytes and has the
 * last word: these checks only spare the user a 10 MB upload that would be refused.
 */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'];
export const IMAGE_FORMATS = 'JPEG, PNG, WebP, GIF or AVIF';

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** A size as the reader's browser writes it: 12 kB, 3.4 MB (of 1,024 each, as the limits are set). */
export const formatBytes = (bytes: number): string => {
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(undefined, { style: 'unit', unit: UNITS[unit], unitDisplay: 'short', maximumFractionDigits: 1 }).format(
    value,
  );
};

/** Sends `file` as it is, with its type, once it passes the checks above. */
export const uploadImage = async (file: File): Promise<Media> => {
  if (!IMAGE_TYPES.includes(file.type)) throw new FormError(`${file.name} is not a ${IMAGE_FORMATS} image.`);
  if (file.size > MAX_UPLOAD_BYTES)
    throw new FormError(`${file.name} is ${formatBytes(file.size)}: Galion takes images of up to ${formatBytes(MAX_UPLOAD_BYTES)}.`);
  return api<Media>('POST', BASE, file);
};

export const deleteImage = (id: string): Promise<void> => api<void>('DELETE', `${BASE}/${encodeURIComponent(id)}`);

/** My avatar, or null when none is set (404 `avatar_not_set`). */
export const readAvatar = async (): Promise<Avatar | null> => {
  try {
    return await api<Avatar>('GET', mediaPaths.avatar);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'avatar_not_set') return null;
    throw error;
  }
};

/** Makes one of my images my avatar; the profile's `avatar_url` follows a moment later (an event). */
export const setAvatar = (imageId: string): Promise<Avatar> => api<Avatar>('PUT', mediaPaths.avatar, { image_id: imageId });
export const removeAvatar = (): Promise<void> => api<void>('DELETE', mediaPaths.avatar);

/**
 * The address an avatar is read from: media's avatars in their small thumbnail (128 pixels, for a
 * 40-pixel circle on a dense screen) when `small`, else their default medium one (512); an address
 * of another site, set by hand through the API, as it is.
 */
export const avatarSource = (url: string, small: boolean): string =>
  small && url.startsWith(`${BASE}/avatars/`) ? withQuery(url, { size: 'small' }) : url;
