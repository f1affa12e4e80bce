import { tmpdir } from 'node:os';
import { ConfigError } from '@galion/kit';
import { loadMediaConfig } from '../src/config';
import { UploadGate } from '../src/routes/upload-gate';

const base = { DATABASE_URL: 'postgres://localhost/media' };

describe('the media configuration', () => {
  it('when nothing is set, then port 8086, S3 in galion-media, 10 MiB and 50 megapixels at most, 1,000 images and 1 GiB each, URLs of 5 minutes', () => {
    const config = loadMediaConfig(base);
    expect(config).toMatchObject({
      port: 8086,
      storage: { kind: 's3', bucket: 'galion-media', region: 'us-east-1', endpoint: undefined, credentials: undefined },
      limits: { maxUploadBytes: 10_485_760, maxPixels: 50_000_000, quotaFiles: 1_000, quotaBytes: 1_073_741_824 },
      presignSeconds: 300,
      maxUploadsInFlight: 32,
      sweepIntervalMs: 3_600_000,
      pendingGraceMs: 900_000,
      consumerGroup: 'media',
    });
  });

  it('when S3 is configured, then its endpoint, region, bucket and credentials are used', () => {
    const config = loadMediaConfig({
      ...base,
      MEDIA_S3_ENDPOINT: 'http://s3.local:7070',
      MEDIA_S3_PUBLIC_ENDPOINT: 'https://media.example.test',
      MEDIA_S3_REGION: 'eu-west-3',
      MEDIA_S3_BUCKET: 'photos',
      MEDIA_S3_ACCESS_KEY_ID: 'key',
      MEDIA_S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.storage).toEqual({
      kind: 's3',
      endpoint: 'http://s3.local:7070',
      publicEndpoint: 'https://media.example.test',
      region: 'eu-west-3',
      bucket: 'photos',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
    });
  });

  it('when the disk is chosen, then MEDIA_DISK_DIR is required, named when missing', () => {
    expect(() => loadMediaConfig({ ...base, MEDIA_STORAGE: 'disk' })).toThrow(/MEDIA_DISK_DIR: required when MEDIA_STORAGE is disk/);
    expect(loadMediaConfig({ ...base, MEDIA_STORAGE: 'disk', MEDIA_DISK_DIR: '/var/lib/media' }).storage).toEqual({
      kind: 'disk',
      dir: '/var/lib/media',
      signingKey: undefined,
      publicUrl: undefined,
    });
  });

  it.each([
    ['MEDIA_STORAGE', 'ftp'],
    ['MEDIA_MAX_UPLOAD_BYTES', '10mb'],
    ['MEDIA_MAX_UPLOAD_BYTES', '100'],
    ['MEDIA_MAX_PIXELS', '999999999'],
    ['MEDIA_QUOTA_FILES', '0'],
    ['MEDIA_PRESIGN_SECONDS', '604801'],
    ['MEDIA_S3_BUCKET', 'Not_A_Bucket'],
    ['MEDIA_S3_ENDPOINT', 'ftp://s3'],
    ['MEDIA_URL_SIGNING_KEY', 'short'],
    ['MEDIA_TMP_DIR', 'relative/tmp'],
    ['UV_THREADPOOL_SIZE', '1'],
  ])('when %s is %j, then it is refused, naming it', (name, value) => {
    const load = () => loadMediaConfig({ ...base, [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(name));
  });

  it('when MEDIA_TMP_DIR is not set, then uploads are written in the system’s temporary directory; when it is, there', () => {
    expect(loadMediaConfig(base).tmpDir).toBe(tmpdir());
    expect(loadMediaConfig({ ...base, MEDIA_TMP_DIR: '/var/tmp/media' }).tmpDir).toBe('/var/tmp/media');
  });

  it('when UV_THREADPOOL_SIZE is 6 (media’s main), then four image operations run at once; unset (Node’s 4), two; two threads stay for the files', () => {
    expect(loadMediaConfig({ ...base, UV_THREADPOOL_SIZE: '6' }).imageOperations).toBe(4);
    expect(loadMediaConfig(base).imageOperations).toBe(2);
    expect(loadMediaConfig({ ...base, UV_THREADPOOL_SIZE: '2' }).imageOperations).toBe(1);
  });

  it('when only one of the two S3 credentials is set, then the missing one is named', () => {
    expect(() => loadMediaConfig({ ...base, MEDIA_S3_ACCESS_KEY_ID: 'key' })).toThrow(/MEDIA_S3_SECRET_ACCESS_KEY: required/);
    expect(() => loadMediaConfig({ ...base, MEDIA_S3_SECRET_ACCESS_KEY: 'secret' })).toThrow(/MEDIA_S3_ACCESS_KEY_ID: required/);
  });
});

describe('the upload gate', () => {
  it('when every slot is taken, then the next upload gets none until one is released, and releasing twice frees one slot only', () => {
    const gate = new UploadGate(2);
    const first = gate.enter();
    const second = gate.enter();
    expect(first && second).toBeTruthy();
    expect(gate.enter()).toBeUndefined();
    first!();
    first!();
    const third = gate.enter();
    expect(third).toBeDefined();
    expect(gate.enter()).toBeUndefined();
  });
});
