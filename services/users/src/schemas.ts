import { queryInteger, text, z } from '@galion/kit';
import { MAX_CURSOR_LENGTH } from '@galion/pagination';
import { ROLES } from '@galion/tokens';

const TIME_ZONE_NAMES = [...new Set(Intl.supportedValuesOf('timeZone').concat('UTC'))].sort();
const TIME_ZONES = new Set(TIME_ZONE_NAMES);
const PREFERENCES_MAX_BYTES = 8_192;

const followCounts = {
  followers_count: z.number().int().min(0).openapi({ description: 'How many users follow this one (exact, counted when asked).' }),
  following_count: z.number().int().min(0).openapi({ description: 'How many users this one follows (exact, counted when asked).' }),
};

export const ProfileView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    active: z.boolean(),
    bio: z.string().nullable(),
    avatar_url: z.string().nullable(),
    locale: z.string().nullable(),
    timezone: z.string().nullable(),
    preferences: z.record(z.string(), z.unknown()),
    is_public: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    ...followCounts,
  })
  .openapi('Profile');

export const PublicProfileView = z
  .object({ id: z.uuid(), name: z.string(), bio: z.string().nullable(), avatar_url: z.string().nullable(), ...followCounts })
  .openapi('PublicProfile');

export const UpdateMeRequest = z
  .strictObject({
    name: text({ min: 1, max: 100, nonBlank: true, trim: true }).optional(),
    bio: text({ max: 1_000 }).nullable().optional(),
    avatar_url: z
      .url({ protocol: /^https$/, message: 'must be an https URL' })
      .max(2_048)
      .regex(/^https:\/\/[\x21-\x7e]+$/, 'must be an https URL of printable ASCII characters')
      .nullable()
      .optional(),
    locale: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as en or pt-BR')
      .max(35)
      .nullable()
      .optional(),
    timezone: z
      .string()
      .max(64)
      .refine((value) => TIME_ZONES.has(value), 'must be an IANA time zone such as Europe/Paris')
      .nullable()
      .optional()
      .openapi({ enum: [...TIME_ZONE_NAMES, null], example: 'Europe/Paris' }),
    preferences: z
      .record(text({ max: 64 }), z.unknown())
      .refine(
        (value) => Buffer.byteLength(JSON.stringify(value)) <= PREFERENCES_MAX_BYTES,
        `must be at most ${PREFERENCES_MAX_BYTES} bytes of JSON`,
      )
      .refine((value) => !JSON.stringify(value).includes('\\u0000'), 'must not hold NUL characters')
      .optional()
      .openapi({
        description: `Free-form settings of the web app or client, at most ${PREFERENCES_MAX_BYTES} bytes of JSON, no NUL characters.`,
      }),
    is_public: z.boolean().optional().openapi({ description: 'Let other signed-in users see name, bio and avatar.' }),
  })
  .openapi('UpdateMeRequest');

export const AdminUpdateRequest = z
  .strictObject({ role: z.enum(ROLES).optional(), active: z.boolean().optional() })
  .refine((value) => value.role !== undefined || value.active !== undefined, 'give role, active, or both')
  .openapi('AdminUpdateRequest', { minProperties: 1, description: 'Give role, active, or both.' });

export const UserIdParams = z.object({ id: z.uuid({ message: 'must be a user id (UUID)' }) });

export const SearchQuery = z.strictObject({
  q: text({ min: 1, max: 254, nonBlank: true, trim: true }).optional().openapi({ description: 'Prefix of the email or the name.' }),
  role: z.enum(ROLES).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  sort: z.enum(['created_at', 'name', 'email']).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: queryInteger({ min: 1, max: 100, default: 20 }),
  cursor: text({ max: MAX_CURSOR_LENGTH }).optional(),
});

export const ProfileList = z.object({ items: z.array(ProfileView), next_cursor: z.string().nullable() }).openapi('ProfileList');

export const FollowView = z
  .object({
    follower_id: z.uuid(),
    followee_id: z.uuid(),
    followed_at: z.iso.datetime().openapi({ description: 'When the follow began; following again keeps it.' }),
  })
  .openapi('Follow');

export const FollowListQuery = z.strictObject({
  limit: queryInteger({ min: 1, max: 100, default: 20 }),
  cursor: text({ max: MAX_CURSOR_LENGTH }).optional().openapi({ description: 'The next_cursor of the previous page, unchanged.' }),
});

export const FollowListEntry = z
  .object({
    id: z.uuid(),
    name: z.string().nullable().openapi({ description: 'Null when the caller may not see this profile (private or deactivated).' }),
    avatar_url: z.string().nullable().openapi({ description: 'Null when there is none, or the caller may not see this profile.' }),
    followed_at: z.iso.datetime(),
  })
  .openapi('FollowListEntry');

export const FollowList = z
  .object({
    items: z.array(FollowListEntry).openapi({ description: 'Newest follow first.' }),
    next_cursor: z.string().nullable(),
  })
  .openapi('FollowList');
