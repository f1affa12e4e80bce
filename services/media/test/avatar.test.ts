import sharp from 'sharp';
import { binaryBody, eventually, NO_SUCH_ID, rowsOf, startMedia, uploaded, userDeleted, type Caller, type MediaHarness } from './harness';
import { jpeg, png } from './images';

jest.setTimeout(60_000);

let h: MediaHarness;
beforeAll(async () => {
  h = await startMedia();
});
afterAll(async () => {
  await h.close();
});

/** The owner's media.avatar_changed events, oldest first. */
const avatarEvents = async (owner: Caller) => {
  const rows: { envelope: { data: Record<string, unknown> } }[] = await h
    .db('outbox')
    .where({ event_type: 'media.avatar_changed', subject: owner.id })
    .orderBy('position');
  return rows.map((row) => row.envelope.data);
};

const setAvatar = (caller: Caller, imageId: string) => h.http.put('/api/v1/media/avatar').set(caller.headers).send({ image_id: imageId });

describe('PUT, GET and DELETE /api/v1/media/avatar', () => {
  it('when a user makes an image their avatar, then they read it back, anyone reads its thumbnail without a token, and the event names it', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg(800, 600));

    const set = await setAvatar(owner, image.id).expect(200);
    expect(set.body).toEqual({ image_id: image.id, url: `/api/v1/media/avatars/${image.id}` });
    expect((await h.http.get('/api/v1/media/avatar').set(owner.headers).expect(200)).body).toEqual(set.body);

    const read = await h.http.get(`/api/v1/media/avatars/${image.id}`).buffer(true).parse(binaryBody).expect(200);
    expect(read.headers['content-type']).toBe('image/webp');
    expect(read.headers['cache-control']).toBe('public, max-age=300');
    expect(await sharp(read.body as Buffer).metadata()).toMatchObject({ format: 'webp', width: 512, height: 384 });
    const small = await h.http.get(`/api/v1/media/avatars/${image.id}?size=small`).buffer(true).parse(binaryBody).expect(200);
    expect((await sharp(small.body as Buffer).metadata()).width).toBe(128);
    await h.http.get(`/api/v1/media/avatars/${image.id}`).set('If-None-Match', read.headers.etag!).expect(304);

    expect(await avatarEvents(owner)).toEqual([
      { media_id: image.id, previous_media_id: null, avatar_path: `/api/v1/media/avatars/${image.id}`, revision: 1 },
    ]);
  });

  it('when a user changes their avatar and then sets the same one again, then the old URL finds nothing and the second set says nothing new', async () => {
    const owner = await h.caller();
    const [first, second] = [await uploaded(h, owner, await jpeg()), await uploaded(h, owner, await png(30, 30), 'image/png')];
    await setAvatar(owner, first.id).expect(200);
    await setAvatar(owner, second.id).expect(200);
    await setAvatar(owner, second.id).expect(200);

    expect((await h.http.get(`/api/v1/media/avatars/${first.id}`).expect(404)).body.error).toBe('media_not_found');
    await h.http.get(`/api/v1/media/avatars/${second.id}`).expect(200);
    expect((await avatarEvents(owner)).map((data) => [data.media_id, data.previous_media_id, data.revision])).toEqual([
      [first.id, null, 1],
      [second.id, first.id, 2],
    ]);
  });

  it('when a user clears their avatar, then it is 404 avatar_not_set, its URL finds nothing, the image stays, and the event says so', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    await setAvatar(owner, image.id).expect(200);

    await h.http.delete('/api/v1/media/avatar').set(owner.headers).expect(204);
    await h.http.delete('/api/v1/media/avatar').set(owner.headers).expect(204);

    expect((await h.http.get('/api/v1/media/avatar').set(owner.headers).expect(404)).body.error).toBe('avatar_not_set');
    await h.http.get(`/api/v1/media/avatars/${image.id}`).expect(404);
    await h.http.get(`/api/v1/media/${image.id}`).set(owner.headers).expect(200);
    expect((await avatarEvents(owner)).at(-1)).toEqual({ media_id: null, previous_media_id: image.id, avatar_path: null, revision: 2 });
    expect(await avatarEvents(owner)).toHaveLength(2);
  });

  it('when a user deletes the image that is their avatar, then the avatar is cleared with its event in the same step', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    await setAvatar(owner, image.id).expect(200);

    await h.http.delete(`/api/v1/media/${image.id}`).set(owner.headers).expect(204);

    await h.http.get('/api/v1/media/avatar').set(owner.headers).expect(404);
    await h.http.get(`/api/v1/media/avatars/${image.id}`).expect(404);
    expect((await avatarEvents(owner)).at(-1)).toMatchObject({ media_id: null, previous_media_id: image.id, revision: 2 });
  });

  it('when a user deletes an image that is not their avatar, then the avatar stays and no avatar event is written', async () => {
    const owner = await h.caller();
    const [avatar, other] = [await uploaded(h, owner, await jpeg()), await uploaded(h, owner, await jpeg(30, 20))];
    await setAvatar(owner, avatar.id).expect(200);

    await h.http.delete(`/api/v1/media/${other.id}`).set(owner.headers).expect(204);

    expect((await h.http.get('/api/v1/media/avatar').set(owner.headers).expect(200)).body.image_id).toBe(avatar.id);
    expect(await avatarEvents(owner)).toHaveLength(1);
  });

  it('when a user names someone else’s image, no image, or not an id, then 404 media_not_found or 400, and nothing changes', async () => {
    const [owner, other] = [await h.caller(), await h.caller()];
    const theirs = await uploaded(h, other, await jpeg());

    expect((await setAvatar(owner, theirs.id).expect(404)).body.error).toBe('media_not_found');
    await setAvatar(owner, NO_SUCH_ID).expect(404);
    const bad = await setAvatar(owner, 'not-an-id').expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ path: 'body.image_id' })]);
    await h.http.put('/api/v1/media/avatar').set(owner.headers).send({ image_id: theirs.id, extra: 1 }).expect(400);

    await h.http.get('/api/v1/media/avatar').set(owner.headers).expect(404);
    await h.http.get(`/api/v1/media/avatars/${theirs.id}`).expect(404);
    expect(await avatarEvents(owner)).toEqual([]);
  });

  it('when an image is not an avatar, or the size is not a thumbnail, then its public URL is 404 or 400', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    await h.http.get(`/api/v1/media/avatars/${image.id}`).expect(404);
    await setAvatar(owner, image.id).expect(200);
    const original = await h.http.get(`/api/v1/media/avatars/${image.id}?size=original`).expect(400);
    expect(original.body.details).toEqual([expect.objectContaining({ path: 'query.size' })]);
  });

  it('when the avatar’s owner is deleted, then their avatar URL finds nothing', async () => {
    const owner = await h.caller();
    const image = await uploaded(h, owner, await jpeg());
    await setAvatar(owner, image.id).expect(200);

    await h.publishUserEvent(userDeleted(owner.id));

    await eventually(async () => (await rowsOf(h, owner.id)).length === 0, 10_000, 'their rows removed');
    await h.http.get(`/api/v1/media/avatars/${image.id}`).expect(404);
    expect(await h.db('media_owners').where({ id: owner.id }).first('avatar_id')).toEqual({ avatar_id: null });
  });

  it('when there is no token, then the avatar routes of one’s own are 401', async () => {
    await h.http.get('/api/v1/media/avatar').expect(401);
    await h.http.put('/api/v1/media/avatar').send({ image_id: NO_SUCH_ID }).expect(401);
    await h.http.delete('/api/v1/media/avatar').expect(401);
  });
});
