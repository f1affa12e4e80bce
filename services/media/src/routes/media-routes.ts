import { pipeline } from 'node:stream/promises';
import { isAppError, z, type ApiRouter, type ResponseHeaderSpec, type ResponseLink } from '@galion/kit';
import { authOf } from '@galion/tokens';
import type { Request, RequestHandler, Response } from 'express';
import { EXTENSIONS, type ImageFormat } from '../domain/formats.js';
import type { MediaMetrics } from '../domain/metrics.js';
import type { Actor, Avatar, Download, MediaRecord, MediaService } from '../domain/media-service.js';
import { VARIANTS } from '../domain/media-service.js';
import {
  AvatarSizeQuery,
  AvatarView,
  MediaIdParams,
  MediaList,
  MediaStats,
  MediaView,
  PageQuery,
  PresignedUrl,
  SetAvatarRequest,
  SignedQuery,
  SizeQuery,
  UploadParts,
} from '../schemas.js';
import type { TempFiles } from '../storage/index.js';
import { MULTIPART_OVERHEAD_BYTES, readUpload } from './upload-body.js';
import { overloaded, type UploadGate } from './upload-gate.js';

export const BASE = '/api/v1/media';
/** Where the disk store's signed URLs are served. */
export const SIGNED_PATH = `${BASE}/signed`;
const tags = ['media'];

/** The caller of a bearer route. */
export const actorOf = (res: Response): Actor => ({ id: authOf(res).sub });

export const toMediaView = (media: MediaRecord) => ({
  id: media.id,
  owner_id: media.ownerId,
  content_type: media.contentType,
  width: media.width,
  height: media.height,
  bytes: media.bytes,
  stored_bytes: media.storedBytes,
  sizes: Object.fromEntries(
    VARIANTS.map((variant) => {
      const { contentType, width, height, bytes } = media.variants[variant];
      return [variant, { content_type: contentType, width, height, bytes }];
    }),
  ) as Record<(typeof VARIANTS)[number], { content_type: string; width: number; height: number; bytes: number }>,
  created_at: media.createdAt.toISOString(),
});

const toAvatarView = (avatar: Avatar) => ({ image_id: avatar.media.id, url: avatar.path });

/** JSON reads and every error: the caller's own data, never stored by a cache. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'private, no-store');
  next();
};

/**
 * Whether If-None-Match names this ETag: `*`, or a list of entity tags compared weakly, as the
 * RFC asks of If-None-Match (RFC 9110, 13.1.2).
 */
const ifNoneMatchHits = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => opaque(tag) === opaque(etag));
};

const extensionOf = (contentType: string): string => EXTENSIONS[contentType.replace('image/', '') as ImageFormat] ?? 'bin';

/**
 * Streams a stored variant: its ETag (the SHA-256 of its bytes, which never change), its type and
 * length, or 304 when the caller holds it already. A client that goes away mid-stream ends it.
 */
const sendDownload = async (req: Request, res: Response, download: Download, cacheControl: string): Promise<void> => {
  const { variant, object, media } = download;
  const etag = `"${variant.sha256}"`;
  res.set({
    ETag: etag,
    'Cache-Control': cacheControl,
    'Content-Disposition': `inline; filename="${media.id}.${extensionOf(variant.contentType)}"`,
  });
  if (ifNoneMatchHits(req.get('if-none-match'), etag)) {
    object.body.destroy();
    res.status(304).end();
    return;
  }
  res.status(200).set({ 'Content-Type': variant.contentType, 'Content-Length': String(object.bytes) });
  try {
    await pipeline(object.body, res);
  } catch (error) {
    // The client went away: nothing to answer.
    if (req.destroyed || res.destroyed) return;
    throw error;
  }
};

const ETAG: Record<string, ResponseHeaderSpec> = {
  ETag: { description: 'The SHA-256 of the bytes (they never change); send it back in If-None-Match.', schema: { type: 'string' } },
  'Cache-Control': { description: '`private, max-age=31536000, immutable`: the image of an id never changes.', schema: { type: 'string' } },
};
/** An avatar can be cleared, so caches keep it only briefly. */
const AVATAR_MAX_AGE_SECONDS = 300;
const AVATAR_HEADERS: Record<string, ResponseHeaderSpec> = {
  ETag: ETAG.ETag!,
  'Cache-Control': { description: '`public, max-age=300`: a cleared avatar goes from caches soon.', schema: { type: 'string' } },
};
const IF_NONE_MATCH = { 'If-None-Match': 'The ETag of a copy already held: 304 Not Modified.' };
const binary = z.string().openapi({ format: 'binary' });

const hidden = 'No such image, or someone else’s (media_not_found): 404, never 403';
const byId = { id: '$response.body#/id' };
const mediaLinks: Record<string, ResponseLink> = {
  ReadMedia: { operation: `get ${BASE}/{id}`, parameters: byId },
  DownloadMedia: { operation: `get ${BASE}/{id}/content`, parameters: byId },
  PresignMedia: { operation: `get ${BASE}/{id}/url`, parameters: byId },
  DeleteMedia: { operation: `delete ${BASE}/{id}`, parameters: byId },
};

export interface MediaRouteDeps {
  media: MediaService;
  metrics: MediaMetrics;
  uploads: UploadGate;
  tempFiles: TempFiles;
  maxUploadBytes: number;
}

export const registerMediaRoutes = (api: ApiRouter, deps: MediaRouteDeps): void => {
  const { media, metrics } = deps;

  api.route({
    method: 'post',
    path: BASE,
    summary: 'Upload an image (JPEG, PNG, WebP, GIF, AVIF): the body itself, or the part `file` of a multipart/form-data body',
    description: `The format is told by the bytes, never by a name or a declared type. The image is re-encoded in its own format with its EXIF orientation applied and all metadata stripped (EXIF, GPS, XMP, IPTC), and WebP thumbnails of at most 128, 512 and 1024 pixels are made. At most ${deps.maxUploadBytes} bytes (MEDIA_MAX_UPLOAD_BYTES) and MEDIA_MAX_PIXELS pixels; within the owner’s quota (MEDIA_QUOTA_FILES, MEDIA_QUOTA_BYTES).`,
    tags,
    access: 'bearer',
    rawBody: {
      // What the gateway lets through too: the largest image, and the framing of a multipart body.
      limit: `${deps.maxUploadBytes + MULTIPART_OVERHEAD_BYTES}b`,
      types: ['image/*', 'multipart/form-data'],
      description: 'The image: the body itself with its image type, or the part `file` of a multipart/form-data body.',
      schemas: { 'multipart/form-data': UploadParts },
    },
    responses: {
      201: {
        description: 'The image, stored',
        schema: MediaView,
        headers: { Location: { description: 'The image’s URL.', schema: { type: 'string' } } },
        links: mediaLinks,
      },
      400: 'An empty body, a multipart body without its part `file` (validation_failed), an unreadable one (malformed_multipart), or one cut short (bad_request)',
      404: 'Your account was deleted (account_not_found)',
      409: 'Your quota of images or of bytes has no room for it (quota_exceeded, with details naming which)',
      413: 'The image is larger than MEDIA_MAX_UPLOAD_BYTES (payload_too_large), told by Content-Length or while it streams; the rest is not read',
      415: 'The body is not image/* nor multipart/form-data (unsupported_media_type), or its bytes are not a JPEG, PNG, WebP, GIF or AVIF (unsupported_image)',
      422: 'More pixels than MEDIA_MAX_PIXELS, told by its header before decoding (image_too_large); or it does not decode whole: truncated or damaged (image_unreadable)',
    },
    handler: async ({ req, res }) => {
      const actor = actorOf(res);
      const leave = deps.uploads.enter();
      try {
        if (!leave) throw overloaded();
        try {
          await media.checkRoom(actor);
        } catch (error) {
          // Refused before the body is read: it stays unread, so the connection ends with the answer.
          res.set('Connection', 'close');
          throw error;
        }
        // The body and the re-encoded original go through files, removed whatever the outcome.
        const files = await deps.tempFiles.forUpload();
        let stored: MediaRecord;
        try {
          await readUpload(req, deps.maxUploadBytes, files.body);
          stored = await media.upload(actor, files);
        } finally {
          await files.remove();
        }
        metrics.uploads.inc({ result: 'stored' });
        return {
          status: 201,
          body: toMediaView(stored),
          headers: { Location: `${BASE}/${stored.id}`, 'Cache-Control': 'private, no-store' },
        };
      } catch (error) {
        metrics.uploads.inc({ result: isAppError(error) ? error.code : 'failed' });
        throw error;
      } finally {
        leave?.();
      }
    },
  });

  // Concrete paths: the kit serves them before the `{id}` template that also matches them.
  api.route({
    method: 'get',
    path: `${BASE}/stats`,
    summary: 'What I keep (images and bytes, uploads in progress included) and my quota',
    tags,
    access: 'bearer',
    before: [noStore],
    responses: {
      200: { description: 'My usage and quota (`private, no-store`)', schema: MediaStats },
      404: 'Your account was deleted (account_not_found)',
    },
    handler: async ({ res }) => {
      const { usage, quota } = await media.usage(actorOf(res));
      return { body: { files: usage.files, bytes: usage.bytes, quota } };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/avatar`,
    summary: 'My avatar: which image, and where anyone reads it',
    tags,
    access: 'bearer',
    before: [noStore],
    responses: {
      200: { description: 'My avatar (`private, no-store`)', schema: AvatarView },
      404: 'You have set none, or cleared it, or deleted its image (avatar_not_set)',
    },
    handler: async ({ res }) => ({ body: toAvatarView(await media.avatar(actorOf(res))) }),
  });

  api.route({
    method: 'put',
    path: `${BASE}/avatar`,
    summary: 'Make one of my images my avatar',
    description:
      'Its thumbnails become readable by anyone at the avatar’s URL (a path on the gateway), and the profile’s `avatar_url` becomes that path shortly after (the users service reads the `media.avatar_changed` event). Deleting the image clears the avatar.',
    tags,
    access: 'bearer',
    before: [noStore],
    body: SetAvatarRequest,
    responses: {
      200: { description: 'My avatar now (`private, no-store`)', schema: AvatarView },
      400: 'Invalid input (validation_failed)',
      404: hidden,
    },
    handler: async ({ body, res }) => ({ body: toAvatarView(await media.setAvatar(actorOf(res), body.image_id)) }),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/avatar`,
    summary: 'Clear my avatar (the image stays)',
    tags,
    access: 'bearer',
    before: [noStore],
    responses: { 204: { description: 'Cleared, or there was none' } },
    handler: async ({ res }) => {
      await media.clearAvatar(actorOf(res));
      return { status: 204 };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/avatars/{id}`,
    summary: 'Someone’s avatar, a thumbnail, read without a token',
    description:
      'Only an image that is its owner’s avatar now is found here; when they change or clear it, or delete the image, its URL finds nothing. Cached for at most five minutes, so a cleared avatar goes soon.',
    tags,
    access: { public: 'ip' },
    params: MediaIdParams,
    query: AvatarSizeQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'The thumbnail (`public, max-age=300`)', schema: binary, contentType: 'image/webp', headers: AVATAR_HEADERS },
      304: { description: 'Not modified: If-None-Match names the thumbnail.', headers: AVATAR_HEADERS },
      404: 'No image of this id is someone’s avatar now (media_not_found)',
    },
    handler: async ({ params, query, req, res }) => {
      const download = await media.downloadAvatar(params.id, query.size);
      await sendDownload(req, res, download, `public, max-age=${AVATAR_MAX_AGE_SECONDS}`);
    },
  });

  api.route({
    method: 'get',
    path: SIGNED_PATH,
    summary: 'An image through a signed URL of `GET /api/v1/media/{id}/url`, when images are kept on disk (MEDIA_STORAGE=disk)',
    description:
      'No token: the signature (HMAC-SHA256 of the key and the expiry, MEDIA_URL_SIGNING_KEY) is the permission. With S3 storage the URLs are the store’s own and this route finds nothing.',
    tags,
    access: { public: 'ip' },
    query: SignedQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'The image', schema: binary, contentType: 'image/*', headers: ETAG },
      304: { description: 'Not modified: If-None-Match names the image.', headers: ETAG },
      403: 'The signature is not the service’s (signature_invalid), or the URL has expired (url_expired)',
      404: 'No such image any more, or images are not kept on disk (media_not_found)',
    },
    handler: async ({ query, req, res }) => {
      const download = await media.downloadSigned(query);
      const left = Math.max(0, query.expires - Math.floor(Date.now() / 1_000));
      await sendDownload(req, res, download, `private, max-age=${left}`);
    },
  });

  api.route({
    method: 'get',
    path: BASE,
    summary: 'My images, newest first',
    tags,
    access: 'bearer',
    before: [noStore],
    query: PageQuery,
    responses: {
      200: { description: 'A page of my images (`private, no-store`)', schema: MediaList },
      400: 'Invalid input (validation_failed), or a cursor this list did not give out (invalid_cursor)',
    },
    handler: async ({ query, res }) => {
      const page = await media.list(actorOf(res), query);
      return { body: { items: page.items.map(toMediaView), next_cursor: page.nextCursor } };
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}`,
    summary: 'An image of mine: its type, dimensions, sizes and thumbnails',
    tags,
    access: 'bearer',
    before: [noStore],
    params: MediaIdParams,
    responses: { 200: { description: 'The image (`private, no-store`)', schema: MediaView }, 404: hidden },
    handler: async ({ params, res }) => ({ body: toMediaView(await media.read(actorOf(res), params.id)) }),
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}/content`,
    summary: 'Download an image of mine, or one of its thumbnails, streamed',
    tags,
    access: 'bearer',
    before: [noStore],
    params: MediaIdParams,
    query: SizeQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'The image (`private, max-age=31536000, immutable`)', schema: binary, contentType: 'image/*', headers: ETAG },
      304: { description: 'Not modified: If-None-Match names the image.', headers: ETAG },
      404: hidden,
    },
    handler: async ({ params, query, req, res }) => {
      const download = await media.download(actorOf(res), params.id, query.size);
      await sendDownload(req, res, download, 'private, max-age=31536000, immutable');
    },
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}/url`,
    summary: 'A short-lived URL that reads an image of mine without a token (MEDIA_PRESIGN_SECONDS)',
    tags,
    access: 'bearer',
    before: [noStore],
    params: MediaIdParams,
    query: SizeQuery,
    responses: { 200: { description: 'The URL and when it expires (`private, no-store`)', schema: PresignedUrl }, 404: hidden },
    handler: async ({ params, query, res }) => {
      const signed = await media.presign(actorOf(res), params.id, query.size);
      return {
        body: { url: signed.url, size: query.size, content_type: signed.variant.contentType, expires_at: signed.expiresAt.toISOString() },
      };
    },
  });

  api.route({
    method: 'delete',
    path: `${BASE}/{id}`,
    summary: 'Delete an image of mine: its metadata and its stored objects',
    tags,
    access: 'bearer',
    before: [noStore],
    params: MediaIdParams,
    responses: { 204: { description: 'Deleted' }, 404: hidden },
    handler: async ({ params, res }) => {
      await media.delete(actorOf(res), params.id);
      return { status: 204 };
    },
  });
};
