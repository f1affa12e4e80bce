import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  objectStoreUnavailable,
  type ObjectBody,
  type ObjectFile,
  type ObjectInfo,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';

export interface S3StoreSettings {
  /** The endpoint the service talks to; the AWS endpoint of the region when undefined. */
  endpoint: string | undefined;
  /** The endpoint presigned URLs name (what browsers reach); `endpoint` when undefined. */
  publicEndpoint: string | undefined;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Time to connect, and to get an answer, per attempt. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const status = (error: unknown): number | undefined =>
  error instanceof S3ServiceException
    ? error.$metadata.httpStatusCode
    : (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

const isNotFound = (error: unknown): boolean =>
  status(error) === 404 || ['NoSuchKey', 'NotFound', 'NoSuchBucket'].includes((error as { name?: string })?.name ?? '');

/** Whether a failed request may succeed when sent again: no answer (the network), or the store's own failure, or a throttle. */
const retryable = (error: unknown): boolean => {
  const code = status(error);
  return code === undefined || code >= 500 || code === 408 || code === 429;
};

/** Sends of a file (the client's own maxAttempts, which it does not apply to a stream). */
const FILE_PUT_ATTEMPTS = 2;

/**
 * The SDK's messages: silent, as by default, but for one it writes to the console when it has no
 * logger (a failed request whose body is a stream); its failures reach the service as errors.
 */
const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Deletes at most this many keys per request (the S3 limit). */
const DELETE_BATCH = 1_000;

/**
 * Objects in a bucket of an S3-compatible store (AWS S3, MinIO, versitygw, Ceph…), with
 * path-style requests, so a store reached by an IP address or a cluster-internal name works.
 * Checksums are sent and checked only where S3 requires them: several S3-compatible stores
 * refuse the newer flexible checksums.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly presigner: S3Client;
  private readonly bucket: string;

  constructor(settings: S3StoreSettings) {
    const base: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: true,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      logger: SILENT,
      requestHandler: { connectionTimeout: settings.connectionTimeoutMs ?? 3_000, requestTimeout: settings.requestTimeoutMs ?? 30_000 },
    };
    this.client = new S3Client({ ...base, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}) });
    const publicEndpoint = settings.publicEndpoint ?? settings.endpoint;
    this.presigner =
      publicEndpoint === settings.endpoint
        ? this.client
        : new S3Client({ ...base, ...(publicEndpoint ? { endpoint: publicEndpoint } : {}) });
    this.bucket = settings.bucket;
  }

  private async send<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw objectStoreUnavailable(error);
    }
  }

  async open(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw objectStoreUnavailable(error);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Created meanwhile by another replica.
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as { name?: string }).name ?? ''))
        throw objectStoreUnavailable(error);
    }
  }

  async ping(): Promise<void> {
    await this.send(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async put(key: string, body: ObjectBody, contentType: string): Promise<void> {
    if (!Buffer.isBuffer(body)) return this.putFile(key, body, contentType);
    await this.send(() =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType }),
      ),
    );
  }

  /**
   * A file streamed as the request's body, its length declared: nothing of it is held in memory.
   * The SDK cannot send a stream twice, so a failure worth a retry is retried here, on a new stream.
   */
  private async putFile(key: string, file: ObjectFile, contentType: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const body = createReadStream(file.path);
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: file.bytes, ContentType: contentType }),
        );
        return;
      } catch (error) {
        if (attempt === FILE_PUT_ATTEMPTS || !retryable(error)) throw objectStoreUnavailable(error);
      } finally {
        // A request that failed midway leaves its stream open.
        body.destroy();
      }
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, bytes: answer.ContentLength ?? 0, lastModified: answer.LastModified, body: answer.Body as Readable };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw objectStoreUnavailable(error);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, bytes: answer.ContentLength ?? 0, lastModified: answer.LastModified };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw objectStoreUnavailable(error);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const answer = await this.send(() =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        ),
      );
      const failed = (answer.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw objectStoreUnavailable(new Error(`deleting ${failed.length} objects failed: ${failed[0]?.Code} ${failed[0]?.Message}`));
      }
    }
  }

  presign(key: string, seconds: number, options: { contentType: string }): Promise<string> {
    return this.send(() =>
      getSignedUrl(this.presigner, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentType: options.contentType }), {
        expiresIn: seconds,
      }),
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo[]> {
    let token: string | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1_000 })),
      );
      yield (page.Contents ?? []).flatMap((object) =>
        object.Key ? [{ key: object.Key, bytes: object.Size ?? 0, lastModified: object.LastModified }] : [],
      );
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presigner !== this.client) this.presigner.destroy();
  }
}
