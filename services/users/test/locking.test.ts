import { eventually } from '@galion/localdeps';
import { ProfileRepository } from '../src/repositories/profiles';
import { newUser, profileArrives, startPlatform, type Platform } from './harness';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform();
});
afterAll(async () => {
  await p.close();
});

/** Whether another transaction can take the profile's row now (NOWAIT: a lock held elsewhere fails at once). */
const lockableElsewhere = async (id: string): Promise<boolean> => {
  try {
    await p.usersDb.transaction((trx) => trx('profiles').where({ id }).forUpdate().noWait().select('id'));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return false;
    throw error;
  }
};

describe('profiles locked in one order', () => {
  it('when an admin change locks the active admins, then the changed profile is locked in the same statement', async () => {
    const user = await newUser(p, { name: 'Changed' });
    await profileArrives(p, user.id);
    const profiles = new ProfileRepository(p.usersDb);

    await p.usersDb.transaction(async (trx) => {
      const admins = await profiles.lockActiveAdmins(user.id, trx);
      expect(admins).not.toContain(user.id);
      expect(await lockableElsewhere(user.id)).toBe(false);
    });
    // Released with the transaction. The consumer may take the row a moment for the user's later
    // events (the login after registration), so "free" is waited for, briefly.
    await eventually(() => lockableElsewhere(user.id), 5_000, 'the profile lock released');
  });

  it('when a batch of events is about several users, then all their profiles are locked before the first is applied', async () => {
    const [first, second] = [await newUser(p, { name: 'First' }), await newUser(p, { name: 'Second' })];
    await Promise.all([profileArrives(p, first.id), profileArrives(p, second.id)]);
    const profiles = new ProfileRepository(p.usersDb);

    await p.usersDb.transaction(async (trx) => {
      await profiles.lockAll([second.id, first.id, '00000000-0000-7000-8000-000000000000'], trx);
      expect([await lockableElsewhere(first.id), await lockableElsewhere(second.id)]).toEqual([false, false]);
    });
  });
});
