import { queryInteger, text, z } from '@galion/kit';
import { MAX_CURSOR_LENGTH } from '@galion/pagination';

const Cursor = text({ max: MAX_CURSOR_LENGTH }).optional().openapi({ description: 'The `next_cursor` of the previous page, unchanged.' });
const Time = z.iso.datetime();
const Size = z.enum(['original', 'small', 'medium', 'large']);

const VariantView = z
  .object({
    content_type: z.string().openapi({ example: 'image/webp' }),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int(),
  })
  .openapi('MediaVariant');

export const MediaView = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    content_type: z.string().openapi({ description: 'The original’s type, told by its bytes.', example: 'image/jpeg' }),
    width: z.number().int().openapi({ description: 'Pixels, upright (its EXIF orientation applied).' }),
    height: z.number().int(),
    bytes: z.number().int().openapi({ description: 'The stored original’s size (re-encoded, metadata stripped).' }),
    stored_bytes: z.number().int().openapi({ description: 'Everything stored for it, thumbnails included: what the quota counts.' }),
    sizes: z.object({ original: VariantView, small: VariantView, medium: VariantView, large: VariantView }).openapi({
      description: 'Each stored variant: the original and the WebP thumbnails of at most 128, 512 and 1024 pixels on their longest side.',
    }),
    created_at: Time,
  })
  .openapi('Media');

export const MediaList = z.object({ items: z.array(MediaView), next_cursor: z.string().nullable() }).openapi('MediaList');

const UsageView = z.object({ files: z.number().int(), bytes: z.number().int() });

export const MediaStats = z
  .object({
    files: z.number().int().openapi({ description: 'Images you keep, uploads in progress included.' }),
    bytes: z.number().int().openapi({ description: 'Bytes stored for them, thumbnails included.' }),
    quota: UsageView.openapi({ description: 'What you may keep (MEDIA_QUOTA_FILES, MEDIA_QUOTA_BYTES).' }),
  })
  .openapi('MediaStats');

export const PresignedUrl = z
  .object({
    url: z.string().openapi({
      description:
        'Reads the image without a token until `expires_at`: an S3 presigned URL, or with disk storage a signed URL of this service (a path when MEDIA_PUBLIC_URL is not set).',
    }),
    size: Size,
    content_type: z.string(),
    expires_at: Time,
  })
  .openapi('PresignedUrl');

export const MediaIdParams = z.object({ id: z.uuid({ message: 'must be an image id (UUID)' }) });

export const PageQuery = z.strictObject({ limit: queryInteger({ min: 1, max: 100, default: 20 }), cursor: Cursor });

export const SizeQuery = z.strictObject({
  size: Size.default('original').openapi({
    description: 'The original, or a WebP thumbnail of at most 128 (small), 512 (medium) or 1024 (large) pixels on its longest side.',
  }),
});

export const SignedQuery = z.strictObject({
  key: text({ max: 200 }),
  expires: z
    .string()
    .regex(/^\d{1,12}$/, 'must be a whole number (Unix seconds)')
    .transform(Number)
    .openapi({ type: 'integer', minimum: 0, pattern: undefined, description: 'When the URL expires, in Unix seconds.' }),
  signature: text({ max: 100 }),
});

/**
 * The parts of a multipart upload, for the document: the image in `file` (its declared type and
 * name are ignored: the format is read from its bytes), other text fields ignored.
 */
export const UploadParts = z
  .object({ file: z.string().openapi({ format: 'binary', description: 'The image: JPEG, PNG, WebP, GIF or AVIF.' }) })
  .openapi('MediaUploadParts');

export const SetAvatarRequest = z
  .strictObject({ image_id: z.uuid({ message: 'must be an image id (UUID)' }).openapi({ description: 'One of your images.' }) })
  .openapi('SetAvatarRequest');

export const AvatarView = z
  .object({
    image_id: z.uuid(),
    url: z.string().openapi({
      description: 'Where anyone reads it without a token: a path on the gateway, which the profile’s `avatar_url` becomes too.',
      example: '/api/v1/media/avatars/01938f3c-5d1e-7a4b-9c2d-3e4f5a6b7c8d',
    }),
  })
  .openapi('Avatar');

export const AvatarSizeQuery = z.strictObject({
  size: z
    .enum(['small', 'medium', 'large'])
    .default('medium')
    .openapi({ description: 'A WebP thumbnail of at most 128 (small), 512 (medium) or 1024 (large) pixels on its longest side.' }),
});
