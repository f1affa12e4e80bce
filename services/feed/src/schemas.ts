import { queryInteger, text, z } from '@galion/kit';
import { MAX_CURSOR_LENGTH } from '@galion/pagination';

/** The HTTP contract of the feed service: what its routes parse and answer. */

const Cursor = text({ max: MAX_CURSOR_LENGTH }).optional().openapi({ description: 'The `next_cursor` of the previous page, unchanged.' });

export const FeedQuery = z.strictObject({ limit: queryInteger({ min: 1, max: 100, default: 20 }), cursor: Cursor });

export const FeedEntryView = z
  .object({
    id: z.uuid().openapi({ description: 'The entry: the id of the event it comes from.' }),
    kind: z.enum(['post', 'comment']).openapi({ description: '`post`: a post was published; `comment`: a post was commented on.' }),
    actor_id: z.string().openapi({ description: 'Who did it: the post’s author or the commenter.' }),
    post_id: z.string(),
    title: z.string().nullable().openapi({ description: 'The post’s title when it was published (posts only).' }),
    tags: z.array(z.string()).openapi({ description: 'The post’s tags when it was published (empty for comments).' }),
    comment_id: z.string().nullable().openapi({ description: 'The comment (comments only).' }),
    post_author_id: z.string().nullable().openapi({ description: 'The commented post’s author (comments only).' }),
    time: z.iso.datetime().openapi({ description: 'When it happened (the event time).' }),
  })
  .openapi('FeedEntry');

export const FeedPage = z
  .object({
    items: z.array(FeedEntryView),
    next_cursor: z.string().nullable().openapi({ description: 'Pass it back as `cursor` for the next, older page; null on the last.' }),
  })
  .openapi('FeedPage');
