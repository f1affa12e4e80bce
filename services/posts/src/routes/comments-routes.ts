import type { ApiRouter, ResponseLink } from '@galion/kit';
import type { Comment, CommentService } from '../domain/comment-service.js';
import { CommentIdParams, CommentList, CommentRequest, CommentView, PageQuery, PostIdParams } from '../schemas.js';
import { CACHE_HEADERS, cachedRead, IF_NONE_MATCH, notModified, noStoreUntilAnswered, written } from './caching.js';
import { actorOf, BASE, viewerOf } from './posts-routes.js';

const tags = ['comments'];

const toCommentView = (comment: Comment) => ({
  id: comment.id,
  post_id: comment.postId,
  author_id: comment.authorId,
  body: comment.body,
  created_at: comment.createdAt.toISOString(),
  updated_at: comment.updatedAt.toISOString(),
});

const hidden = 'No such post, or a draft of someone else (post_not_found)';
const gone = `${hidden}; no such comment on it (comment_not_found); your account was deleted (account_not_found)`;

export interface CommentsRouteDeps {
  comments: CommentService;
  publicMaxAgeSeconds: number;
}

const byCommentId = { id: '$response.body#/post_id', commentId: '$response.body#/id' };
/** What a written comment's ids serve next. */
const commentLinks: Record<string, ResponseLink> = {
  EditComment: { operation: `patch ${BASE}/{id}/comments/{commentId}`, parameters: byCommentId },
  DeleteComment: { operation: `delete ${BASE}/{id}/comments/{commentId}`, parameters: byCommentId },
};

export const registerCommentsRoutes = (api: ApiRouter, { comments, publicMaxAgeSeconds: maxAge }: CommentsRouteDeps): void => {
  api.route({
    method: 'post',
    path: `${BASE}/{id}/comments`,
    summary: 'Comment on a published post (or, its author, on your own draft)',
    tags,
    access: 'bearer',
    params: PostIdParams,
    body: CommentRequest,
    responses: {
      201: { description: 'The comment', schema: CommentView, headers: CACHE_HEADERS, links: commentLinks },
      403: 'The post is a draft you may read (an admin) but not comment on (forbidden)',
      404: `${hidden}; your account was deleted (account_not_found)`,
    },
    handler: async ({ params, body, res }) => written(201, toCommentView(await comments.create(actorOf(res), params.id, body.body))),
  });

  api.route({
    method: 'get',
    path: `${BASE}/{id}/comments`,
    summary: 'A post’s comments, oldest first',
    tags,
    access: { public: 'ip', token: 'optional' },
    before: [noStoreUntilAnswered],
    params: PostIdParams,
    query: PageQuery,
    headers: IF_NONE_MATCH,
    responses: {
      200: { description: 'A page of comments (`public` on a published post)', schema: CommentList, headers: CACHE_HEADERS },
      304: notModified('page'),
      400: 'Invalid input (validation_failed), or a cursor this list did not give out (invalid_cursor)',
      404: hidden,
    },
    handler: async ({ params, query, req, res }) => {
      const { post, page } = await comments.list(viewerOf(res), params.id, query);
      return cachedRead(
        req,
        { items: page.items.map(toCommentView), next_cursor: page.nextCursor },
        post.published ? 'public' : 'private',
        maxAge,
      );
    },
  });

  api.route({
    method: 'patch',
    path: `${BASE}/{id}/comments/{commentId}`,
    summary: 'Change a comment (its author only)',
    tags,
    access: 'bearer',
    params: CommentIdParams,
    body: CommentRequest,
    responses: {
      200: { description: 'The comment', schema: CommentView, headers: CACHE_HEADERS },
      403: 'The comment is someone else’s (forbidden)',
      404: gone,
    },
    handler: async ({ params, body, res }) =>
      written(200, toCommentView(await comments.update(actorOf(res), params.id, params.commentId, body.body))),
  });

  api.route({
    method: 'delete',
    path: `${BASE}/{id}/comments/{commentId}`,
    summary: 'Delete a comment (its author, the post’s author or an admin)',
    tags,
    access: 'bearer',
    params: CommentIdParams,
    responses: {
      204: { description: 'Deleted' },
      403: 'Neither the comment’s author, the post’s author nor an admin (forbidden)',
      404: gone,
    },
    handler: async ({ params, res }) => {
      await comments.delete(actorOf(res), params.id, params.commentId);
      return { status: 204 };
    },
  });
};
