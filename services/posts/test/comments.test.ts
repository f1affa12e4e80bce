import { everyPage, NO_SUCH_ID, outboxEvents, startPosts, writePost, type Caller, type PostsHarness } from './harness';

let h: PostsHarness;
let author: Caller;
let reader: Caller;
let third: Caller;
let admin: Caller;
beforeAll(async () => {
  h = await startPosts();
  [author, reader, third, admin] = [await h.caller(), await h.caller(), await h.caller(), await h.caller('admin')];
});
afterAll(async () => {
  await h.close();
});

const comment = async (postId: string, caller: Caller, body = 'Nice post.') =>
  (await h.http.post(`/api/v1/posts/${postId}/comments`).set(caller.headers).send({ body }).expect(201)).body as {
    id: string;
    post_id: string;
    author_id: string;
    body: string;
  };

describe('POST /api/v1/posts/{id}/comments', () => {
  it('when a user comments on a published post, then the comment is theirs and one comment.created names the post’s author', async () => {
    const post = await writePost(h, author);
    const created = await comment(post.id, reader, 'First!');
    expect(created).toMatchObject({ post_id: post.id, author_id: reader.id, body: 'First!' });
    expect(await outboxEvents(h, { commentId: created.id })).toEqual([
      { type: 'comment.created', subject: reader.id, data: { comment_id: created.id, post_id: post.id, post_author_id: author.id } },
    ]);
  });

  it('when the post is a draft, then its author may comment, an admin is forbidden, and to others it does not exist', async () => {
    const draft = await writePost(h, author, { published: false });
    await comment(draft.id, author, 'Note to self.');
    expect((await h.http.post(`/api/v1/posts/${draft.id}/comments`).set(admin.headers).send({ body: 'x' }).expect(403)).body.error).toBe(
      'forbidden',
    );
    expect((await h.http.post(`/api/v1/posts/${draft.id}/comments`).set(reader.headers).send({ body: 'x' }).expect(404)).body.error).toBe(
      'post_not_found',
    );
  });

  it.each([
    ['an empty body', { body: '' }],
    ['a blank body', { body: ' \n ' }],
    ['a body of 10,001 characters', { body: 'x'.repeat(10_001) }],
    ['no body', {}],
    ['an unknown field', { body: 'x', post_id: NO_SUCH_ID }],
  ])('when the comment has %s, then 400 and nothing is written', async (_case, body) => {
    const post = await writePost(h, author);
    expect((await h.http.post(`/api/v1/posts/${post.id}/comments`).set(reader.headers).send(body).expect(400)).body.error).toBe(
      'validation_failed',
    );
    expect(await h.db('comments').where({ post_id: post.id })).toEqual([]);
  });

  it('when the comment has 10,000 characters, then it is accepted', async () => {
    const post = await writePost(h, author);
    await comment(post.id, reader, 'ü'.repeat(10_000));
  });

  it('when anonymous, then 401; when the post does not exist or the id is bad, then 404 or 400', async () => {
    const post = await writePost(h, author);
    await h.http.post(`/api/v1/posts/${post.id}/comments`).send({ body: 'x' }).expect(401);
    await h.http.post(`/api/v1/posts/${NO_SUCH_ID}/comments`).set(reader.headers).send({ body: 'x' }).expect(404);
    await h.http.post('/api/v1/posts/nope/comments').set(reader.headers).send({ body: 'x' }).expect(400);
  });
});

describe('GET /api/v1/posts/{id}/comments', () => {
  it('when a published post has comments, then anyone reads them oldest first, page by page without gaps', async () => {
    const post = await writePost(h, author);
    const written = [];
    for (let i = 0; i < 7; i += 1) written.push((await comment(post.id, i % 2 ? reader : third, `Comment ${i}`)).id);
    expect(await everyPage(h, `/api/v1/posts/${post.id}/comments`, { limit: 3 })).toEqual(written);
  });

  it('when comments are added while a reader pages through, then each comment is seen once, the new ones at the end', async () => {
    const post = await writePost(h, author);
    const before = [];
    for (let i = 0; i < 6; i += 1) before.push((await comment(post.id, reader)).id);
    const seen: string[] = [];
    const added: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await h.http
        .get(`/api/v1/posts/${post.id}/comments`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.next_cursor;
      if (added.length < 3) added.push((await comment(post.id, third)).id);
    } while (cursor);
    expect(seen).toEqual([...before, ...added]);
  });

  it('when the post is a draft, then its author and admins read the comments, others get 404', async () => {
    const draft = await writePost(h, author, { published: false });
    await comment(draft.id, author);
    await h.http.get(`/api/v1/posts/${draft.id}/comments`).set(author.headers).expect(200);
    await h.http.get(`/api/v1/posts/${draft.id}/comments`).set(admin.headers).expect(200);
    await h.http.get(`/api/v1/posts/${draft.id}/comments`).set(reader.headers).expect(404);
    await h.http.get(`/api/v1/posts/${draft.id}/comments`).expect(404);
  });

  it('when the cursor is forged or of another list, or the limit is bad, then 400', async () => {
    const post = await writePost(h, author);
    await comment(post.id, reader);
    await comment(post.id, reader);
    await h.http.get(`/api/v1/posts/${post.id}/comments`).query({ limit: 0 }).expect(400);
    const listCursor = (await h.http.get('/api/v1/posts').query({ limit: 1 }).expect(200)).body.next_cursor;
    expect((await h.http.get(`/api/v1/posts/${post.id}/comments`).query({ cursor: listCursor }).expect(400)).body.error).toBe(
      'invalid_cursor',
    );
  });
});

describe('PATCH /api/v1/posts/{id}/comments/{commentId}', () => {
  it('when its author changes a comment, then it is changed and no event is written (there is no comment.updated)', async () => {
    const post = await writePost(h, author);
    const created = await comment(post.id, reader);
    const updated = await h.http
      .patch(`/api/v1/posts/${post.id}/comments/${created.id}`)
      .set(reader.headers)
      .send({ body: 'Edited.' })
      .expect(200);
    expect(updated.body.body).toBe('Edited.');
    expect((await outboxEvents(h, { commentId: created.id })).map((event) => event.type)).toEqual(['comment.created']);
  });

  it('when the post’s author, an admin or another user changes it, then 403 and it stays', async () => {
    const post = await writePost(h, author);
    const created = await comment(post.id, reader);
    for (const caller of [author, admin, third])
      await h.http.patch(`/api/v1/posts/${post.id}/comments/${created.id}`).set(caller.headers).send({ body: 'Hijacked.' }).expect(403);
    expect((await h.db('comments').where({ id: created.id }).first()).body).toBe('Nice post.');
  });

  it('when the comment is on another post, or does not exist, then 404 comment_not_found; a bad body, then 400', async () => {
    const [post, otherPost] = [await writePost(h, author), await writePost(h, author)];
    const created = await comment(post.id, reader);
    const elsewhere = await h.http
      .patch(`/api/v1/posts/${otherPost.id}/comments/${created.id}`)
      .set(reader.headers)
      .send({ body: 'x' })
      .expect(404);
    expect(elsewhere.body.error).toBe('comment_not_found');
    await h.http.patch(`/api/v1/posts/${post.id}/comments/${NO_SUCH_ID}`).set(reader.headers).send({ body: 'x' }).expect(404);
    await h.http.patch(`/api/v1/posts/${post.id}/comments/${created.id}`).set(reader.headers).send({ body: '' }).expect(400);
    await h.http.patch(`/api/v1/posts/${post.id}/comments/not-an-id`).set(reader.headers).send({ body: 'x' }).expect(400);
  });
});

describe('DELETE /api/v1/posts/{id}/comments/{commentId}', () => {
  it('when the comment’s author, the post’s author or an admin deletes a comment, then it goes and one comment.deleted is written', async () => {
    const post = await writePost(h, author);
    for (const [caller, deletedBy] of [
      [reader, undefined],
      [author, author.id],
      [admin, admin.id],
    ] as const) {
      const created = await comment(post.id, reader);
      await h.http.delete(`/api/v1/posts/${post.id}/comments/${created.id}`).set(caller.headers).expect(204);
      expect(await h.db('comments').where({ id: created.id })).toEqual([]);
      expect((await outboxEvents(h, { commentId: created.id })).map((event) => [event.type, event.subject, event.data.deleted_by])).toEqual(
        [
          ['comment.created', reader.id, undefined],
          ['comment.deleted', reader.id, deletedBy],
        ],
      );
    }
  });

  it('when another user deletes it, then 403; anonymous, then 401; deleted already, then 404', async () => {
    const post = await writePost(h, author);
    const created = await comment(post.id, reader);
    await h.http.delete(`/api/v1/posts/${post.id}/comments/${created.id}`).set(third.headers).expect(403);
    await h.http.delete(`/api/v1/posts/${post.id}/comments/${created.id}`).expect(401);
    await h.http.delete(`/api/v1/posts/${post.id}/comments/${created.id}`).set(reader.headers).expect(204);
    await h.http.delete(`/api/v1/posts/${post.id}/comments/${created.id}`).set(reader.headers).expect(404);
  });
});

describe('deleting a post', () => {
  it('when a post with comments is deleted, then its comments go with it and other posts’ comments stay', async () => {
    const [doomed, kept] = [await writePost(h, author), await writePost(h, author)];
    for (let i = 0; i < 3; i += 1) await comment(doomed.id, reader);
    const survivor = await comment(kept.id, reader);
    await h.http.delete(`/api/v1/posts/${doomed.id}`).set(author.headers).expect(204);
    expect(await h.db('comments').where({ post_id: doomed.id })).toEqual([]);
    expect(await h.db('comments').where({ id: survivor.id })).toHaveLength(1);
    await h.http.get(`/api/v1/posts/${doomed.id}/comments`).expect(404);
    // The post's deletion is the one event: its comments go with it.
    expect((await outboxEvents(h, { postId: doomed.id })).filter((event) => event.type.startsWith('comment.deleted'))).toEqual([]);
  });

  it('when comments are written while their post is deleted, then none is left behind and no request fails with a 500', async () => {
    const post = await writePost(h, author);
    const writes = Array.from({ length: 10 }, () =>
      h.http.post(`/api/v1/posts/${post.id}/comments`).set(reader.headers).send({ body: 'race' }),
    );
    const deletion = h.http.delete(`/api/v1/posts/${post.id}`).set(author.headers);
    const answers = await Promise.all([...writes, deletion]);
    expect(answers.map((answer) => answer.status).every((status) => [201, 204, 404].includes(status))).toBe(true);
    expect(await h.db('comments').where({ post_id: post.id })).toEqual([]);
  });
});
