import { queryInteger, text, z } from '@galion/kit';
import { MAX_CURSOR_LENGTH } from '@galion/pagination';

export const TITLE_MAX = 500;
export const BODY_MAX = 100_000;
export const TAGS_MAX = 10;
export const TAG_MAX = 32;
export const COMMENT_MAX = 10_000;
export const QUERY_MAX = 200;
/**
 * A request carrying the longest post: 100,000 characters, each up to 12 bytes of JSON when sent
 * escaped (`\ud83d\ude00`), the title (500 more) and the tags; anything larger cannot be valid.
 */
export const POST_BODY_LIMIT = '1280kb';

const Tag = z
  .string()
  .min(1)
  .max(TAG_MAX)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a lower-case slug: letters a-z, digits and single hyphens between them')
  .openapi({ example: 'postgres' });

const Tags = z
  .array(Tag)
  .max(TAGS_MAX, `must have at most ${TAGS_MAX} tags`)
  .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag')
  .openapi({ uniqueItems: true, description: `At most ${TAGS_MAX} distinct tags, each a lower-case slug of 1–${TAG_MAX} characters.` });

const Title = text({ min: 1, max: TITLE_MAX, nonBlank: true, trim: true }).openapi({
  description: `1–${TITLE_MAX} characters, not blank; stored trimmed.`,
});
const PostBody = text({ min: 1, max: BODY_MAX, nonBlank: true }).openapi({ description: `The text, 1–${BODY_MAX} characters, not blank.` });
const CommentBody = text({ min: 1, max: COMMENT_MAX, nonBlank: true }).openapi({
  description: `1–${COMMENT_MAX} characters, not blank.`,
});
const Cursor = text({ max: MAX_CURSOR_LENGTH }).optional().openapi({ description: 'The `next_cursor` of the previous page, unchanged.' });
const Time = z.iso.datetime();

const postFields = {
  id: z.uuid(),
  author_id: z.uuid(),
  title: z.string(),
  tags: z.array(z.string()),
  published: z.boolean(),
  published_at: Time.nullable().openapi({ description: 'When the post was first published; kept when it goes back to draft.' }),
  created_at: Time,
  updated_at: Time,
};

export const PostView = z.object({ ...postFields, body: z.string() }).openapi('Post');

export const PostSummaryView = z
  .object({ ...postFields, excerpt: z.string().openapi({ description: 'The first 280 characters of the body.' }) })
  .openapi('PostSummary');

export const SearchHitView = z
  .object({
    ...postFields,
    excerpt: z.string(),
    rank: z.number().openapi({ description: 'ts_rank_cd of the match: title words weigh more than body words.' }),
  })
  .openapi('SearchHit');

export const PostList = z.object({ items: z.array(PostSummaryView), next_cursor: z.string().nullable() }).openapi('PostList');
export const SearchResults = z.object({ items: z.array(SearchHitView), next_cursor: z.string().nullable() }).openapi('SearchResults');

export const CommentView = z
  .object({ id: z.uuid(), post_id: z.uuid(), author_id: z.uuid(), body: z.string(), created_at: Time, updated_at: Time })
  .openapi('Comment');
export const CommentList = z.object({ items: z.array(CommentView), next_cursor: z.string().nullable() }).openapi('CommentList');

export const CreatePostRequest = z
  .strictObject({
    title: Title,
    body: PostBody,
    tags: Tags.default([]),
    published: z
      .boolean()
      .default(false)
      .openapi({ description: 'Publish at once; a draft (false) is seen by its author and admins only.' }),
  })
  .openapi('CreatePostRequest');

export const UpdatePostRequest = z
  .strictObject({ title: Title.optional(), body: PostBody.optional(), tags: Tags.optional(), published: z.boolean().optional() })
  .refine((value) => Object.values(value).some((field) => field !== undefined), 'give at least one of title, body, tags, published')
  .openapi('UpdatePostRequest', { minProperties: 1, description: 'Give at least one field; the others stay.' });

export const CommentRequest = z.strictObject({ body: CommentBody }).openapi('CommentRequest');

export const PostIdParams = z.object({ id: z.uuid({ message: 'must be a post id (UUID)' }) });
export const CommentIdParams = z.object({
  id: z.uuid({ message: 'must be a post id (UUID)' }),
  commentId: z.uuid({ message: 'must be a comment id (UUID)' }),
});

export const ListQuery = z.strictObject({
  author: z.uuid({ message: 'must be a user id (UUID)' }).optional().openapi({ description: 'Only this author’s posts.' }),
  tag: Tag.optional().openapi({ description: 'Only posts with this tag.' }),
  limit: queryInteger({ min: 1, max: 100, default: 20 }),
  cursor: Cursor,
});

export const PageQuery = z.strictObject({ limit: queryInteger({ min: 1, max: 100, default: 20 }), cursor: Cursor });

export const SearchQuery = z.strictObject({
  q: text({ min: 1, max: QUERY_MAX, nonBlank: true, trim: true }).openapi({
    description: 'Words to find in titles and bodies, in web-search syntax: `"a phrase"`, `or`, `-excluded`.',
  }),
  limit: queryInteger({ min: 1, max: 50, default: 20 }),
  cursor: Cursor,
});
