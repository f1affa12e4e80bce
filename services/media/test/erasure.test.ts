import { eventually, rowsOf, startMedia, STORAGE_KINDS, uploaded, userDeleted, type MediaHarness } from './harness';
import { jpeg, png } from './images';

jest.setTimeout(60_000);

const metric = async (h: MediaHarness, name: string): Promise<number> => {
  const text = (await h.http.get('/metrics').expect(200)).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
};

describe.each(STORAGE_KINDS)('user.deleted on the in-process bus, images on %s', (storage) => {
  let h: MediaHarness;
  beforeAll(async () => {
    h = await startMedia({ storage });
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a user is deleted, then their images and every object of them are removed, and other users’ stay', async () => {
    const [gone, stays] = [await h.caller(), await h.caller()];
    const theirs = [await uploaded(h, gone, await jpeg()), await uploaded(h, gone, await png(), 'image/png')];
    const others = await uploaded(h, stays, await jpeg());

    await h.publishUserEvent(userDeleted(gone.id));

    await eventually(async () => (await rowsOf(h, gone.id)).length === 0, 10_000, 'their rows removed');
    const keys = await h.storedKeys();
    expect(keys.filter((key) => theirs.some((image) => key.includes(image.id)))).toEqual([]);
    expect(keys.filter((key) => key.includes(others.id))).toHaveLength(4);
    await h.http.get(`/api/v1/media/${others.id}/content`).set(stays.headers).expect(200);
  });

  it('when a deleted user’s token is still used, then uploads are refused (404 account_not_found) and nothing of theirs comes back', async () => {
    const gone = await h.caller();
    await uploaded(h, gone, await jpeg());
    await h.publishUserEvent(userDeleted(gone.id));
    await eventually(async () => (await rowsOf(h, gone.id)).length === 0, 10_000, 'their rows removed');

    expect((await h.upload(gone, await jpeg()).expect(404)).body.error).toBe('account_not_found');
    expect((await h.http.get('/api/v1/media/stats').set(gone.headers).expect(404)).body.error).toBe('account_not_found');
    expect(await rowsOf(h, gone.id)).toEqual([]);
  });

  it('when the event comes again, then nothing more happens and the erasure is counted once', async () => {
    const gone = await h.caller();
    await uploaded(h, gone, await jpeg());
    const before = await metric(h, 'media_user_erasures_total');
    const event = userDeleted(gone.id);
    await h.publishUserEvent(event);
    await h.publishUserEvent(event);
    await h.publishUserEvent(userDeleted(gone.id));
    const other = await h.caller();
    await h.publishUserEvent(userDeleted(other.id));
    await h.eventsHandled();
    expect(await rowsOf(h, gone.id)).toEqual([]);
    expect(await metric(h, 'media_user_erasures_total')).toBe(before + 2);
  });

  it('when uploads are in flight while the user is deleted, then none of them survives, neither as a row nor as an object', async () => {
    const gone = await h.caller();
    const images = await Promise.all(Array.from({ length: 10 }, (_, i) => jpeg(40 + i, 40)));
    const writes = images.map((image) => h.upload(gone, image).then((answer) => answer));
    const erasure = h.publishUserEvent(userDeleted(gone.id));
    const answers = await Promise.all(writes);
    await erasure;
    expect(answers.every((answer) => answer.status === 201 || answer.status === 404)).toBe(true);
    await eventually(async () => (await rowsOf(h, gone.id)).length === 0, 10_000, 'no row left');
    const ids = answers.filter((answer) => answer.status === 201).map((answer) => answer.body.id as string);
    expect((await h.storedKeys()).filter((key) => ids.some((id) => key.includes(id)))).toEqual([]);
  });

  it('when events of other types, or of media itself, arrive, then nothing is removed', async () => {
    const stays = await h.caller();
    const image = await uploaded(h, stays, await jpeg());
    await h.publishUserEvent({ ...userDeleted(stays.id), source: 'media' });
    await h.publishUserEvent({ ...userDeleted(stays.id), type: 'user.logged_out', data: { all_sessions: true } } as never);
    const marker = await h.caller();
    await h.publishUserEvent(userDeleted(marker.id));
    await eventually(
      async () => (await h.db('media_owners').where({ id: marker.id }).whereNotNull('deleted_at')).length === 1,
      10_000,
      'the marker’s tombstone',
    );
    expect((await rowsOf(h, stays.id)).map((row: { id: string }) => row.id)).toEqual([image.id]);
  });
});
