import { createEvent, type EventData } from '@galion/events';
import { eventually } from '@galion/localdeps';
import { bearer, newUser, profileArrives, startPlatform, type Platform } from './harness';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
});
afterAll(async () => {
  await p.close();
});

/** Publishes media.avatar_changed as the media service writes it. */
const avatarChanged = (userId: string, data: EventData<'media.avatar_changed'>) =>
  p.bus.publish('user-events', [
    { key: userId, value: JSON.stringify(createEvent('media.avatar_changed', { source: 'media', subject: userId, data })) },
  ]);

const imageId = (n: number) => `0193a000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const set = (n: number, revision: number, previous: number | null = null) => ({
  media_id: imageId(n),
  previous_media_id: previous === null ? null : imageId(previous),
  avatar_path: `/api/v1/media/avatars/${imageId(n)}`,
  revision,
});
const cleared = (previous: number, revision: number) => ({ media_id: null, previous_media_id: imageId(previous), avatar_path: null, revision });

const avatarOf = async (token: string): Promise<string | null> =>
  (await p.users.get('/api/v1/users/me').set(bearer(token)).expect(200)).body.avatar_url as string | null;

const avatarBecomes = (token: string, expected: string | null, what: string) =>
  eventually(async () => (await avatarOf(token)) === expected, 10_000, what);

describe('media.avatar_changed into the profile’s avatar_url', () => {
  it('when media sets a user’s avatar and later clears it, then avatar_url follows, past the profile cache', async () => {
    const user = await newUser(p, { name: 'Ada' });
    await profileArrives(p, user.id);
    expect(await avatarOf(user.token)).toBeNull();

    await avatarChanged(user.id, set(1, 1));
    await avatarBecomes(user.token, `/api/v1/media/avatars/${imageId(1)}`, 'the avatar set');

    await avatarChanged(user.id, cleared(1, 2));
    await avatarBecomes(user.token, null, 'the avatar cleared');
  });

  it('when an older change arrives after a newer one, or one comes twice, then the newest stays', async () => {
    const user = await newUser(p, { name: 'Grace' });
    await profileArrives(p, user.id);

    await avatarChanged(user.id, set(3, 3, 2));
    await avatarBecomes(user.token, `/api/v1/media/avatars/${imageId(3)}`, 'the newest avatar');
    await avatarChanged(user.id, set(2, 2, 1));
    await avatarChanged(user.id, cleared(3, 3));
    // A marker after them: once it is applied, the two before it were handled (one partition, in order).
    await avatarChanged(user.id, set(4, 4, 3));
    await avatarBecomes(user.token, `/api/v1/media/avatars/${imageId(4)}`, 'the marker');
    const row = await p.usersDb('profiles').where({ id: user.id }).first('avatar_media_id', 'avatar_revision');
    expect(row).toEqual({ avatar_media_id: imageId(4), avatar_revision: 4 });
  });

  it('when a user set an avatar URL by hand after a media avatar, then clearing the media image leaves their URL alone', async () => {
    const user = await newUser(p, { name: 'Linus' });
    await profileArrives(p, user.id);
    await avatarChanged(user.id, set(5, 1));
    await avatarBecomes(user.token, `/api/v1/media/avatars/${imageId(5)}`, 'the media avatar');
    const own = 'https://images.example.com/linus.png';
    await p.users.patch('/api/v1/users/me').set(bearer(user.token)).send({ avatar_url: own }).expect(200);

    await avatarChanged(user.id, cleared(5, 2));

    await eventually(
      async () => (await p.usersDb('profiles').where({ id: user.id }).first('avatar_revision')).avatar_revision === 2,
      10_000,
      'the clearing applied',
    );
    expect(await avatarOf(user.token)).toBe(own);
  });
});
