import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startS3, type S3Handle } from '../src/index';

const clientFor = (s3: S3Handle, secretKey = s3.secretKey): S3Client =>
  new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: secretKey },
    forcePathStyle: true,
    maxAttempts: 1,
  });

/** Resolves to the connection's error code, or 'connected' when something still listens there. */
const tryConnect = (port: number, host = '127.0.0.1'): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

describe('startS3', () => {
  let s3: S3Handle;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startS3();
    client = clientFor(s3);
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  test('when it has started, then it answers S3 on a loopback endpoint in us-east-1 with a data dir of its own', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.region).toBe('us-east-1');
    expect(existsSync(s3.dataDir)).toBe(true);
    // Unsigned requests are refused: the server checks signatures.
    const response = await fetch(`${s3.endpoint}/`);
    expect(response.status).toBe(403);
  });

  test('when an object is put into a new bucket, then it comes back byte-identical, is listed, and is gone once deleted', async () => {
    const bucket = 'galion-media-test';
    const key = 'images/original/photo.bin';
    // Every byte value, then random bytes: nothing may be altered on the way in or out.
    const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)), randomBytes(300 * 1024)]);

    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));

    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.length).toBe(body.length);
    expect(bytes.equals(body)).toBe(true);
    expect(got.ContentType).toBe('application/octet-stream');
    // The posix backend keeps the object as a plain file under the data dir.
    expect(readFileSync(join(s3.dataDir, bucket, key)).equals(body)).toBe(true);

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((object) => [object.Key, object.Size])).toEqual([[key, body.length]]);

    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const afterDelete = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(afterDelete.KeyCount).toBe(0);
    expect(afterDelete.Contents ?? []).toEqual([]);
    await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ name: 'NoSuchKey' });

    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect(existsSync(join(s3.dataDir, bucket))).toBe(false);
  });

  test('when a client signs with the wrong secret key, then every request is refused', async () => {
    const intruder = clientFor(s3, 'not-the-secret');
    try {
      const refused = await intruder.send(new CreateBucketCommand({ Bucket: 'intruder' })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(S3ServiceException);
      expect((refused as S3ServiceException).$metadata.httpStatusCode).toBe(403);
      expect(existsSync(join(s3.dataDir, 'intruder'))).toBe(false);
    } finally {
      intruder.destroy();
    }
  });
});

describe('S3Handle.stop', () => {
  test('when started with keys of its own and then stopped, then it served those keys, its port is closed and its temp data dir is removed', async () => {
    const s3 = await startS3({ accessKey: 'stop-test', secretKey: 'stop-test-secret' });
    try {
      const port = Number(new URL(s3.endpoint).port);
      const client = clientFor(s3);
      try {
        await client.send(new CreateBucketCommand({ Bucket: 'own-keys' }));
      } finally {
        client.destroy();
      }
      expect(existsSync(join(s3.dataDir, 'own-keys'))).toBe(true);
      expect(await tryConnect(port)).toBe('connected');

      await s3.stop();

      expect(await tryConnect(port)).toBe('ECONNREFUSED');
      expect(existsSync(s3.dataDir)).toBe(false);
    } finally {
      await s3.stop();
    }
  });
});

describe('startS3 on another address', () => {
  test('when started with a host, then it answers there, with its port in the handle, and not on 127.0.0.1', async () => {
    // Another loopback address stands in for the local cluster's node address.
    const s3 = await startS3({ host: '127.0.0.2' });
    try {
      expect(s3.endpoint).toBe(`http://127.0.0.2:${s3.port}`);
      const client = clientFor(s3);
      try {
        await client.send(new CreateBucketCommand({ Bucket: 'elsewhere' }));
      } finally {
        client.destroy();
      }
      expect(existsSync(join(s3.dataDir, 'elsewhere'))).toBe(true);
      expect(await tryConnect(s3.port, '127.0.0.1')).toBe('ECONNREFUSED');
    } finally {
      await s3.stop();
    }
  });
});
