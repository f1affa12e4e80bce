import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, constants, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { objectStoreUnavailable, type ObjectBody, type ObjectInfo, type ObjectStore, type StoredObject } from './object-store.js';

/** The keys the service makes (`media/<id>/<variant>`); anything else never reaches the file system. */
const SAFE_KEY = /^[a-z0-9-]+(\/[a-z0-9-]+)*$/;

const isMissing = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((error as { code?: string }).code ?? '');

/**
 * The signed URLs of the disk store: an HMAC-SHA256 over the key and the expiry (Unix seconds),
 * checked by the service's own route (`GET /api/v1/media/signed`) in constant time.
 */
export class UrlSigner {
  private readonly key: Buffer;

  /** `secret` undefined: a random key, so the URLs stop working when the process restarts. */
  constructor(secret: string | undefined) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(objectKey: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${objectKey}\n${expires}`).digest('base64url');
  }

  /** Whether `signature` is this signer's for the key and expiry (expiry not checked here). */
  verify(objectKey: string, expires: number, signature: string): boolean {
    const expected = Buffer.from(this.sign(objectKey, expires));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

export interface DiskStoreSettings {
  dir: string;
  signer: UrlSigner;
  /** What a signed URL starts with: `<origin>/api/v1/media/signed`, or the path alone. */
  signedUrlBase: string;
  /** Unix seconds now (tests move the clock). */
  now?: () => number;
}

/**
 * Objects as files under a directory: `<dir>/objects/<key>`, each written to `<dir>/.tmp` first
 * and renamed into place, so a reader never sees half an object. For all-in-one mode: one process,
 * one machine. Presigned URLs are the service's own signed URLs (UrlSigner).
 */
export class DiskObjectStore implements ObjectStore {
  readonly kind = 'disk' as const;
  private readonly objects: string;
  private readonly tmp: string;
  private readonly now: () => number;

  constructor(private readonly settings: DiskStoreSettings) {
    this.objects = join(settings.dir, 'objects');
    this.tmp = join(settings.dir, '.tmp');
    this.now = settings.now ?? (() => Math.floor(Date.now() / 1_000));
  }

  get signer(): UrlSigner {
    return this.settings.signer;
  }

  private path(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`not an object key of the media service: ${JSON.stringify(key)}`);
    return join(this.objects, ...key.split('/'));
  }

  private async io<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw objectStoreUnavailable(error);
    }
  }

  async open(): Promise<void> {
    await this.io(async () => {
      await mkdir(this.objects, { recursive: true });
      await mkdir(this.tmp, { recursive: true });
    });
  }

  async ping(): Promise<void> {
    await this.io(async () => {
      if (!(await stat(this.objects)).isDirectory()) throw new Error(`${this.objects} is not a directory`);
      await access(this.objects, constants.R_OK | constants.W_OK);
    });
  }

  async put(key: string, body: ObjectBody, _contentType: string): Promise<void> {
    const target = this.path(key);
    const temporary = join(this.tmp, `${randomBytes(12).toString('hex')}.part`);
    await this.io(async () => {
      try {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(
          Buffer.isBuffer(body) ? Readable.from([body]) : createReadStream(body.path),
          createWriteStream(temporary, { flags: 'wx', flush: true }),
        );
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        throw error;
      }
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      return { key, bytes: info.size, lastModified: info.mtime };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw objectStoreUnavailable(error);
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const info = await this.head(key);
    if (!info) return undefined;
    // Opened before it is handed out, so an object deleted meanwhile is "not there", not a broken stream.
    const body = createReadStream(this.path(key));
    try {
      await new Promise<void>((resolve, reject) => {
        body.once('open', () => resolve());
        body.once('error', reject);
      });
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw objectStoreUnavailable(error);
    }
    return { ...info, body };
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.io(async () => {
      for (const key of keys) {
        const path = this.path(key);
        await rm(path, { force: true });
        // The variants' directory goes with its last object.
        await rmdir(dirname(path)).catch(() => undefined);
      }
    });
  }

  async presign(key: string, seconds: number, _options: { contentType: string }): Promise<string> {
    this.path(key);
    const expires = this.now() + seconds;
    const query = new URLSearchParams({ key, expires: String(expires), signature: this.settings.signer.sign(key, expires) });
    return `${this.settings.signedUrlBase}?${query.toString()}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo[]> {
    const page: ObjectInfo[] = [];
    const walk = async function* (this: DiskObjectStore, dir: string): AsyncGenerator<ObjectInfo> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw objectStoreUnavailable(error);
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          yield* walk.call(this, path);
          continue;
        }
        const key = relative(this.objects, path).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        const info = await stat(path).catch(() => undefined);
        if (info) yield { key, bytes: info.size, lastModified: info.mtime };
      }
    };
    for await (const info of walk.call(this, this.objects)) {
      page.push(info);
      if (page.length === 1_000) yield page.splice(0);
    }
    if (page.length > 0) yield page;
  }

  async close(): Promise<void> {}
}
