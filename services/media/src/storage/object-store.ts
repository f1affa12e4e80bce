import type { Readable } from 'node:stream';
import { dependencyUnavailable, type AppError } from '@galion/kit';

/** An object as the store knows it. */
export interface ObjectInfo {
  key: string;
  bytes: number;
  lastModified: Date | undefined;
}

/** A file to store, with its size: S3 is told the length before the bytes, which stream from the file. */
export interface ObjectFile {
  path: string;
  bytes: number;
}

/** What `put` stores: bytes in memory (a thumbnail, small), or a file read as it is sent (an original). */
export type ObjectBody = Buffer | ObjectFile;

/** An object to read: its size and a stream of its bytes. */
export interface StoredObject extends ObjectInfo {
  body: Readable;
}

/**
 * Where images are kept, behind one small interface: S3 (any S3-compatible store) or a directory
 * on disk. Keys are the service's own (`media/<id>/<variant>`), never a caller's input. Every
 * failure to reach the store is `503 dependency_unavailable` (objectStoreUnavailable).
 */
export interface ObjectStore {
  readonly kind: 's3' | 'disk';
  /** Makes the store ready: the bucket or the directory created when missing. */
  open(): Promise<void>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  /** Stores the object whole (a reader never sees part of it); a file is read as it is sent, never held in memory. */
  put(key: string, body: ObjectBody, contentType: string): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deletes these objects; one that is not there is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** A URL that reads the object without a token for `seconds`. */
  presign(key: string, seconds: number, options: { contentType: string }): Promise<string>;
  /** Every object under `prefix`, a page at a time. */
  list(prefix: string): AsyncIterable<ObjectInfo[]>;
  close(): Promise<void>;
}

/** The one error of a store that cannot be reached or fails on its side. */
export const objectStoreUnavailable = (cause: unknown): AppError => dependencyUnavailable('object storage', cause);
