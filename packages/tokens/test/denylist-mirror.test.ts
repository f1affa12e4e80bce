import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createRedis, RedisStore, waitForRedis } from '@galion/kit';
import { startRedis, type RedisHandle } from '@galion/localdeps';
import { DenylistMirror, StoreDenylist } from '@galion/tokens';

const logger = createLogger({ service: 'denylist-mirror-test', level: 'silent' });

let redis: RedisHandle;
const opened: { close(): Promise<void> }[] = [];
// Kept across a restart, so the outage test can find in Redis what the mirror never heard of.
const redisDataDir = mkdtempSync(join(tmpdir(), 'galion-denylist-mirror-'));

beforeAll(async () => {
  redis = await startRedis({ dataDir: redisDataDir });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close().catch(() => undefined)));
});

afterAll(async () => {
  await redis.stop();
  rmSync(redisDataDir, { recursive: true, force: true });
});

let prefixes = 0;
/** A store on the test's own Redis, under a key prefix of its own. */
const newStore = async (prefix: string) => {
  const client = createRedis(redis.url);
  await waitForRedis(client);
  const store = new RedisStore(client, prefix);
  opened.push(store);
  return store;
};

const newMirror = async (prefix: string, options: { maxEntries?: number } = {}) => {
  const mirror = new DenylistMirror(await newStore(prefix), { logger, ...options });
  opened.push(mirror);
  mirror.start();
  return mirror;
};

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

/** How many commands of a kind Redis has run, from INFO commandstats. */
const commandCalls = async (store: RedisStore, command: string) => {
  const info = await store.redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
};

const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

describe('the denylist mirror', () => {
  it('when another process revokes a token or a user, then the mirror answers it from memory, with no Redis command per look-up', async () => {
    const prefix = `m${(prefixes += 1)}:`;
    const writer = new StoreDenylist(await newStore(prefix));
    const mirror = await newMirror(prefix);
    await until(() => mirror.status().live, 'the mirror to be live');

    await writer.revokeToken('jti-revoked', inAMinute());
    await writer.revokeUser('user-revoked', 1_000, 60);
    await until(async () => (await mirror.revocation('jti-revoked', 'someone')).tokenRevoked, 'the token revocation to arrive');
    await until(async () => (await mirror.revocation('x', 'user-revoked')).userRevokedAt === 1_000, 'the user revocation to arrive');
    const reader = await newStore(prefix);
    const getsBefore = await commandCalls(reader, 'mget');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => mirror.revocation(`jti-${i}`, `user-${i}`)));
    const getsAfter = await commandCalls(reader, 'mget');

    expect(answers.every((answer) => !answer.tokenRevoked && answer.userRevokedAt === undefined)).toBe(true);
    expect(getsAfter).toBe(getsBefore);
    expect(await mirror.userRevokedAt('user-revoked')).toBe(1_000);
    expect(mirror.status()).toEqual({ live: true, entries: 2 });
  });

  it('when entries were stored before it started, then it loads them; expired ones are not reported', async () => {
    const prefix = `m${(prefixes += 1)}:`;
    const store = await newStore(prefix);
    const writer = new StoreDenylist(store);
    await writer.revokeToken('old-jti', inAMinute());
    await writer.revokeUser('old-user', 2_000, 60);
    await store.set('denylist:jti:short-lived', '1', 50);

    const mirror = await newMirror(prefix);
    await until(() => mirror.status().live, 'the mirror to be live');
    await sleep(100);

    expect(await mirror.revocation('old-jti', 'old-user')).toEqual({ tokenRevoked: true, userRevokedAt: 2_000 });
    expect((await mirror.revocation('short-lived', 'nobody')).tokenRevoked).toBe(false);
  });

  it('when Redis goes away and comes back, then look-ups go to Redis meanwhile and what was stored but never announced to it is loaded', async () => {
    const prefix = `m${(prefixes += 1)}:`;
    const store = await newStore(prefix);
    const mirror = await newMirror(prefix);
    await until(() => mirror.status().live, 'the mirror to be live');
    // Stored with no announcement, like a revocation announced while the mirror was not
    // subscribed: only a load can bring it, and the live mirror answers from memory without it.
    await store.set('denylist:jti:unannounced', '1', 60_000);
    expect((await mirror.revocation('unannounced', 'b')).tokenRevoked).toBe(false);

    await redis.stop();
    await until(() => !mirror.status().live, 'the mirror to notice');
    // Not live: the look-up is Redis's, which is down.
    await expect(mirror.revocation('a', 'b')).rejects.toThrow();
    await redis.start();
    await until(() => mirror.status().live, 'the mirror to be live again', 10_000);

    expect((await mirror.revocation('unannounced', 'b')).tokenRevoked).toBe(true);
  });

  it('when a later revocation of a user arrives before an earlier one, then the later moment stands', async () => {
    const prefix = `m${(prefixes += 1)}:`;
    const store = await newStore(prefix);
    const mirror = await newMirror(prefix);
    await until(() => mirror.status().live, 'the mirror to be live');

    await store.publish('denylist:changes', `user late 5000 ${Date.now() + 60_000}`);
    await store.publish('denylist:changes', `user late 4000 ${Date.now() + 60_000}`);
    await store.publish('denylist:changes', 'nonsense');
    await store.publish('denylist:changes', `jti done ${Date.now() + 60_000}`);
    await until(async () => (await mirror.revocation('done', 'late')).tokenRevoked, 'the messages to arrive');

    expect(await mirror.userRevokedAt('late')).toBe(5_000);
  });

  it('when it would hold more than its bound, then it lets go and asks Redis, which still answers', async () => {
    const prefix = `m${(prefixes += 1)}:`;
    const writer = new StoreDenylist(await newStore(prefix));
    const mirror = await newMirror(prefix, { maxEntries: 2 });
    await until(() => mirror.status().live, 'the mirror to be live');

    for (const jti of ['one', 'two', 'three']) await writer.revokeToken(jti, inAMinute());
    await until(() => !mirror.status().live, 'the mirror to give up');

    expect(mirror.status().entries).toBe(0);
    expect((await mirror.revocation('three', 'x')).tokenRevoked).toBe(true);
  });
});
