import type { StorageConfig } from '../config.js';
import { DiskObjectStore, UrlSigner } from './disk-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-store.js';

export { DiskObjectStore, UrlSigner } from './disk-store.js';
export {
  objectStoreUnavailable,
  type ObjectBody,
  type ObjectFile,
  type ObjectInfo,
  type ObjectStore,
  type StoredObject,
} from './object-store.js';
export { TempFiles, type UploadFiles } from './temp-files.js';
export { S3ObjectStore } from './s3-store.js';

/** The store of the configuration; `signedPath` is where the disk store's signed URLs are served. */
export const createObjectStore = (storage: StorageConfig, signedPath: string): ObjectStore =>
  storage.kind === 's3'
    ? new S3ObjectStore(storage)
    : new DiskObjectStore({
        dir: storage.dir,
        signer: new UrlSigner(storage.signingKey),
        signedUrlBase: `${(storage.publicUrl ?? '').replace(/\/+$/, '')}${signedPath}`,
      });
