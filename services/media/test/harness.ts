import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createEvent, InProcessEventBus, USER_EVENTS_TOPIC, type EventBus, type EventEnvelope } from '@galion/events';
import { createDatabase, createLogger, MemoryStore, type Knex } from '@galion/kit';
import { eventually, s3Available, startS3, startTestServer, testDatabase, type S3Handle } from '@galion/localdeps';
import { StaticKeySource, StoreDenylist, TokenVerifier } from '@galion/tokens';
import { SignJWT } from 'jose';
import supertest from 'supertest';
import { loadMediaConfig } from '../src/config';
import { composeMedia, type ComposedMedia } from '../src/service';

export const ISSUER = 'https://api.example.test/api/v1/auth';
export const silentLogger = createLogger({ service: 'media-test', level: 'silent' });

/** An Ed25519 key of the test's own, a verifier that trusts it, and tokens signed with it. */
const testTokens = async (store: MemoryStore) => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  const verifier = new TokenVerifier({
    keys: await StaticKeySource.fromJwks({ keys: [jwk as never] }),
    issuer: ISSUER,
    audience: 'galion',
    denylist: new StoreDenylist(store),
  });
  const sign = (sub: string) =>
    new SignJWT({ role: 'user' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience('galion')
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { verifier, sign };
};

/** A signed-in caller: their id and the headers of their requests. */
export interface Caller {
  id: string;
  headers: { Authorization: string };
}

export type StorageKind = 'disk' | 's3';

/** The stores the tests run against: the disk always, S3 (versitygw) where scripts/install-deps.sh built it. */
export const STORAGE_KINDS: StorageKind[] = s3Available() ? ['disk', 's3'] : ['disk'];

export interface MediaHarness {
  service: ComposedMedia;
  http: ReturnType<typeof supertest>;
  /** The app served on 127.0.0.1, for raw HTTP clients. */
  url: string;
  db: Knex;
  bus: EventBus;
  storage: StorageKind;
  /** The S3 server of an `s3` harness. */
  s3: S3Handle | undefined;
  /** The directory of a `disk` harness. */
  diskDir: string | undefined;
  /** Its MEDIA_TMP_DIR, a directory of its own. */
  tmpDir: string;
  /** The files under MEDIA_TMP_DIR now, relative to it (the directories that hold them are not listed). */
  tempFiles(): string[];
  caller(): Promise<Caller>;
  /** Uploads `bytes` as the raw body with `type`; the answer, whatever its status. */
  upload(caller: Caller, bytes: Buffer, type?: string): supertest.Test;
  /** Every key under media/ in the store. */
  storedKeys(): Promise<string[]>;
  publishUserEvent(event: EventEnvelope): Promise<void>;
  /** Resolves once media's consumer has handled every user event published so far (its lag is zero). */
  eventsHandled(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  storage?: StorageKind;
}

/**
 * Media in-process on a fresh database of the shared test PostgreSQL, with tokens of its own, an
 * in-process bus, and its own store: a fresh directory, or a fresh versitygw server with a bucket
 * of its own (the sweep removes whatever its database does not know, so no two harnesses share
 * one). Served on a local port, so raw HTTP clients reach it too.
 */
export const startMedia = async (options: HarnessOptions = {}): Promise<MediaHarness> => {
  const storage = options.storage ?? 'disk';
  const database = await testDatabase('media');
  const store = new MemoryStore();
  const tokens = await testTokens(store);
  const bus = new InProcessEventBus();
  const dir = storage === 'disk' ? mkdtempSync(join(tmpdir(), 'galion-media-')) : undefined;
  const tmpDir = mkdtempSync(join(tmpdir(), 'galion-media-tmp-'));
  const s3 = storage === 's3' ? await startS3() : undefined;
  const storageEnv: Record<string, string> = s3
    ? {
        MEDIA_STORAGE: 's3',
        MEDIA_S3_ENDPOINT: s3.endpoint,
        MEDIA_S3_REGION: s3.region,
        MEDIA_S3_ACCESS_KEY_ID: s3.accessKey,
        MEDIA_S3_SECRET_ACCESS_KEY: s3.secretKey,
        MEDIA_S3_BUCKET: `media-${randomBytes(4).toString('hex')}`,
      }
    : { MEDIA_STORAGE: 'disk', MEDIA_DISK_DIR: dir! };
  const service = await composeMedia(
    loadMediaConfig({
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'silent',
      OUTBOX_POLL_INTERVAL_MS: '20',
      // Every answer is held to its route's declaration (a 500 otherwise).
      API_CHECK_RESPONSES: 'true',
      // The tests run the sweep themselves (service.sweeper.runOnce()).
      MEDIA_SWEEP_INTERVAL_SECONDS: '86400',
      MEDIA_TMP_DIR: tmpDir,
      ...storageEnv,
      ...options.env,
    }),
    { logger: silentLogger, store, bus, verifier: tokens.verifier, createDatabase: true },
  ).catch(async (error: unknown) => {
    await database.drop();
    await s3?.stop();
    rmSync(tmpDir, { recursive: true, force: true });
    throw error;
  });
  const server = await startTestServer(service.app);
  const db = createDatabase({ url: database.url, poolMax: 4 });
  const http = supertest(server.url);
  return {
    service,
    http,
    url: server.url,
    db,
    bus,
    storage,
    s3,
    diskDir: dir,
    tmpDir,
    tempFiles: () =>
      readdirSync(tmpDir, { recursive: true, withFileTypes: true })
        .filter((entry) => !entry.isDirectory())
        .map((entry) => relative(tmpDir, join(entry.parentPath, entry.name)))
        .sort(),
    caller: async () => {
      const id = randomUUID();
      return { id, headers: { Authorization: `Bearer ${await tokens.sign(id)}` } };
    },
    upload: (caller, bytes, type = 'image/jpeg') => http.post('/api/v1/media').set(caller.headers).set('Content-Type', type).send(bytes),
    storedKeys: async () => {
      const keys: string[] = [];
      for await (const page of service.objects.list('media/')) keys.push(...page.map((object) => object.key));
      return keys.sort();
    },
    publishUserEvent: (event) => bus.publish(USER_EVENTS_TOPIC, [{ key: event.subject, value: JSON.stringify(event) }]),
    eventsHandled: () =>
      eventually(
        async () => (await bus.consumerLag('media', USER_EVENTS_TOPIC)).every((partition) => partition.lag === 0),
        10_000,
        'media’s consumer to handle every user event',
      ),
    async close() {
      await server.close();
      for (const closer of [...service.closers].reverse()) await closer.close();
      await bus.close();
      await store.close();
      await db.destroy();
      await database.drop();
      await s3?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
      rmSync(tmpDir, { recursive: true, force: true });
    },
  };
};

/** A user.deleted event as users writes it. */
export const userDeleted = (userId: string): EventEnvelope =>
  createEvent('user.deleted', { source: 'users', subject: userId, data: { deleted_by: userId } });

/** An image as the API shows it. */
export interface MediaBody {
  id: string;
  owner_id: string;
  content_type: string;
  width: number;
  height: number;
  bytes: number;
  stored_bytes: number;
  sizes: Record<'original' | 'small' | 'medium' | 'large', { content_type: string; width: number; height: number; bytes: number }>;
  created_at: string;
}

/** Uploads an image as `caller` and expects it stored; its body. */
export const uploaded = async (h: MediaHarness, caller: Caller, bytes: Buffer, type = 'image/jpeg'): Promise<MediaBody> =>
  (await h.upload(caller, bytes, type).expect(201)).body as MediaBody;

/** A supertest parser that keeps a binary body as a Buffer (image/* bodies are left unparsed otherwise). */
export const binaryBody = (res: NodeJS.ReadableStream, done: (error: Error | null, body: Buffer) => void): void => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

/** Downloads a variant's bytes. */
export const download = async (h: MediaHarness, caller: Caller, id: string, size = 'original'): Promise<Buffer> => {
  const response = await h.http
    .get(`/api/v1/media/${id}/content`)
    .query({ size })
    .set(caller.headers)
    .buffer(true)
    .parse(binaryBody)
    .expect(200);
  return response.body as Buffer;
};

/** Rows of the media table of one owner, in any state. */
export const rowsOf = (h: MediaHarness, ownerId: string) => h.db('media').where({ owner_id: ownerId });

/** The events of the outbox about an image (data.media_id), oldest first. */
export const outboxEvents = async (h: MediaHarness, mediaId: string) => {
  const rows: { event_type: string; subject: string; envelope: EventEnvelope }[] = await h
    .db('outbox')
    .whereRaw("envelope->'data'->>'media_id' = ?", [mediaId])
    .orderBy('position');
  return rows.map((row) => ({ type: row.event_type, subject: row.subject, data: row.envelope.data as Record<string, unknown> }));
};

export { eventually };

export const NO_SUCH_ID = '00000000-0000-7000-8000-000000000000';
