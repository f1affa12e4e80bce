import { tmpdir } from 'node:os';
import { isAbsolute } from 'node:path';
import { kafkaEnv, outboxEnv, readKafkaConfig, readOutboxConfig, type KafkaConfig, type OutboxConfig } from '@galion/events';
import {
  commonEnv,
  ConfigError,
  databaseEnv,
  env,
  loadConfig,
  portEnv,
  readCommonConfig,
  readDatabaseConfig,
  readRedisUrl,
  redisEnv,
  z,
  type CommonConfig,
  type DatabaseConfig,
} from '@galion/kit';
import { readVerifierConfig, verifierEnv, type VerifierConfig } from '@galion/tokens';

const MiB = 1_048_576;

/** Every setting of the media service, read from the environment (docs/media.md: Configuration). */
export const mediaEnvSchema = z.object({
  ...commonEnv,
  ...kafkaEnv,
  ...outboxEnv,
  ...verifierEnv,
  PORT: portEnv(8086),
  ...databaseEnv,
  ...redisEnv,
  AUTH_URL: env
    .url(['http', 'https'])
    .optional()
    .describe("auth's base URL: the default JWKS location (`<AUTH_URL>/api/v1/auth/.well-known/jwks.json`)"),
  MEDIA_STORAGE: z
    .enum(['s3', 'disk'])
    .default('s3')
    .describe('where images are kept: `s3` (a bucket of an S3-compatible store) or `disk` (a directory; all-in-one mode, one replica)'),
  MEDIA_S3_ENDPOINT: env
    .url(['http', 'https'])
    .optional()
    .meta({ description: 'the S3 endpoint the service talks to (path-style requests)', unset: 'the AWS endpoint of `MEDIA_S3_REGION`' }),
  MEDIA_S3_PUBLIC_ENDPOINT: env.url(['http', 'https']).optional().meta({
    description: 'the S3 endpoint presigned URLs name, when browsers reach the store at another address than the service does',
    unset: '`MEDIA_S3_ENDPOINT`',
  }),
  MEDIA_S3_REGION: env.string().default('us-east-1').describe('the S3 region (signing)'),
  MEDIA_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens')
    .default('galion-media')
    .describe(
      'the bucket, created at start when missing; its `media/` prefix belongs to this service (the sweep removes what its database does not know)',
    ),
  MEDIA_S3_ACCESS_KEY_ID: env.string().optional().meta({
    description: 'the S3 access key id, with `MEDIA_S3_SECRET_ACCESS_KEY`',
    unset: "the AWS SDK's default credentials (environment, web identity, instance role)",
  }),
  MEDIA_S3_SECRET_ACCESS_KEY: env.string().optional().describe('the S3 secret access key, with `MEDIA_S3_ACCESS_KEY_ID`'),
  MEDIA_DISK_DIR: env.string().optional().describe('the directory images are kept in when `MEDIA_STORAGE` is `disk` (required then)'),
  MEDIA_URL_SIGNING_KEY: env.string().min(32, 'must be at least 32 characters').optional().meta({
    description: 'the HMAC key of the signed URLs the service serves itself when `MEDIA_STORAGE` is `disk`',
    unset: 'a random key per process: signed URLs stop working when it restarts',
  }),
  MEDIA_PUBLIC_URL: env.url(['http', 'https']).optional().meta({
    description: 'the origin the disk store’s signed URLs start with (the gateway’s public address)',
    unset: 'the URLs are paths (`/api/v1/media/signed?…`), for the API’s own origin',
  }),
  MEDIA_MAX_UPLOAD_BYTES: env
    .int(1_024, 100 * MiB)
    .default(10 * MiB)
    .describe(
      'largest image accepted, in bytes: `413 payload_too_large` as soon as `Content-Length` says so or the body passes it, without reading the rest',
    ),
  MEDIA_MAX_PIXELS: env
    .int(10_000, 268_402_689)
    .default(50_000_000)
    .describe(
      'largest image accepted, in pixels (width × height, every frame of an animation): `422 image_too_large`, before it is decoded',
    ),
  MEDIA_QUOTA_FILES: env.int(1, 10_000_000).default(1_000).describe('images one user may keep'),
  MEDIA_QUOTA_BYTES: env
    .int(1_024, Number.MAX_SAFE_INTEGER)
    .default(1_024 * MiB)
    .describe('bytes one user may keep: every stored image with its thumbnails'),
  MEDIA_PRESIGN_SECONDS: env.int(1, 604_800).default(300).describe('life of the URLs of `GET /api/v1/media/{id}/url`'),
  MEDIA_MAX_UPLOADS_IN_FLIGHT: env
    .int(1, 10_000)
    .default(32)
    .describe(
      'uploads one process takes at once (each holds its image and its re-encoded original in `MEDIA_TMP_DIR` while it is processed); past it `503 overloaded` with `Retry-After: 1` before the body is read',
    ),
  MEDIA_TMP_DIR: env.string().refine(isAbsolute, 'must be an absolute path').optional().meta({
    description:
      'where uploads are written while they are received and processed (its subdirectory `galion-media-uploads`, emptied of earlier processes’ files at start): room for `MEDIA_MAX_UPLOADS_IN_FLIGHT` × (the upload and its re-encoded original)',
    unset: 'the system’s temporary directory (`TMPDIR`, else `/tmp`)',
  }),
  MEDIA_SWEEP_INTERVAL_SECONDS: env
    .int(1, 7 * 86_400)
    .default(3_600)
    .describe('how often the sweep runs (and once at start): pending uploads past their grace, and objects no row knows, are removed'),
  MEDIA_PENDING_GRACE_SECONDS: env
    .int(1, 7 * 86_400)
    .default(900)
    .describe('age past which an upload still `pending` is abandoned: the sweep removes its row and its objects'),
  MEDIA_CONSUMER_GROUP: env.string().default('media').describe('Kafka consumer group'),
  UV_THREADPOOL_SIZE: env.int(2, 1_024).optional().meta({
    description:
      'threads of libuv’s pool, where sharp’s work runs beside the uploads’ file reads and writes: media runs two image operations fewer than these at once (at least one), so that the files never wait behind the images; read by Node at its first use of the pool, so set it in the environment of the process',
    unset: 'media’s main sets it to 6 (four image operations at once; Node’s own default is 4)',
  }),
});

export type StorageConfig =
  | {
      kind: 's3';
      endpoint: string | undefined;
      publicEndpoint: string | undefined;
      region: string;
      bucket: string;
      credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    }
  | { kind: 'disk'; dir: string; signingKey: string | undefined; publicUrl: string | undefined };

export interface MediaLimits {
  maxUploadBytes: number;
  maxPixels: number;
  quotaFiles: number;
  quotaBytes: number;
}

export interface MediaConfig extends CommonConfig, DatabaseConfig {
  redisUrl: string | undefined;
  kafka: KafkaConfig | undefined;
  outbox: OutboxConfig;
  verifier: VerifierConfig;
  storage: StorageConfig;
  limits: MediaLimits;
  presignSeconds: number;
  maxUploadsInFlight: number;
  /** Where uploads' temporary files are written (MEDIA_TMP_DIR). */
  tmpDir: string;
  /** sharp's operations at once: two threads of libuv's pool stay free for files and DNS. */
  imageOperations: number;
  sweepIntervalMs: number;
  pendingGraceMs: number;
  consumerGroup: string;
}

const invalid = (lines: string[]): ConfigError =>
  new ConfigError(`Invalid configuration, fix these environment variables:\n${lines.map((line) => `  ${line}`).join('\n')}`);

const readStorage = (e: z.infer<typeof mediaEnvSchema>): StorageConfig => {
  if (e.MEDIA_STORAGE === 'disk') {
    if (!e.MEDIA_DISK_DIR) throw invalid(['MEDIA_DISK_DIR: required when MEDIA_STORAGE is disk (not set)']);
    return { kind: 'disk', dir: e.MEDIA_DISK_DIR, signingKey: e.MEDIA_URL_SIGNING_KEY, publicUrl: e.MEDIA_PUBLIC_URL };
  }
  const [keyId, secret] = [e.MEDIA_S3_ACCESS_KEY_ID, e.MEDIA_S3_SECRET_ACCESS_KEY];
  if ((keyId === undefined) !== (secret === undefined)) {
    throw invalid([
      keyId === undefined
        ? 'MEDIA_S3_ACCESS_KEY_ID: required with MEDIA_S3_SECRET_ACCESS_KEY (not set)'
        : 'MEDIA_S3_SECRET_ACCESS_KEY: required with MEDIA_S3_ACCESS_KEY_ID (not set)',
    ]);
  }
  return {
    kind: 's3',
    endpoint: e.MEDIA_S3_ENDPOINT,
    publicEndpoint: e.MEDIA_S3_PUBLIC_ENDPOINT,
    region: e.MEDIA_S3_REGION,
    bucket: e.MEDIA_S3_BUCKET,
    credentials: keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret } : undefined,
  };
};

export const loadMediaConfig = (source: NodeJS.ProcessEnv = process.env): MediaConfig => {
  const e = loadConfig(mediaEnvSchema, source);
  const verifier = readVerifierConfig(e);
  return {
    ...readCommonConfig(e),
    ...readDatabaseConfig(e),
    redisUrl: readRedisUrl(e),
    kafka: readKafkaConfig(e, 'galion-media'),
    outbox: readOutboxConfig(e),
    verifier: {
      ...verifier,
      jwksUrl: verifier.jwksUrl ?? (e.AUTH_URL ? `${e.AUTH_URL.replace(/\/+$/, '')}/api/v1/auth/.well-known/jwks.json` : undefined),
    },
    storage: readStorage(e),
    limits: {
      maxUploadBytes: e.MEDIA_MAX_UPLOAD_BYTES,
      maxPixels: e.MEDIA_MAX_PIXELS,
      quotaFiles: e.MEDIA_QUOTA_FILES,
      quotaBytes: e.MEDIA_QUOTA_BYTES,
    },
    presignSeconds: e.MEDIA_PRESIGN_SECONDS,
    maxUploadsInFlight: e.MEDIA_MAX_UPLOADS_IN_FLIGHT,
    tmpDir: e.MEDIA_TMP_DIR ?? tmpdir(),
    // Node's default pool has 4 threads.
    imageOperations: Math.max(1, (e.UV_THREADPOOL_SIZE ?? 4) - 2),
    sweepIntervalMs: e.MEDIA_SWEEP_INTERVAL_SECONDS * 1_000,
    pendingGraceMs: e.MEDIA_PENDING_GRACE_SECONDS * 1_000,
    consumerGroup: e.MEDIA_CONSUMER_GROUP,
  };
};
