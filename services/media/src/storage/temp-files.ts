import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ConfigError, type Logger } from '@galion/kit';

/** The service's own subdirectory of MEDIA_TMP_DIR: nothing outside it is ever removed. */
export const TEMP_SUBDIR = 'galion-media-uploads';

/** A process's directory in it: `<pid>-<16 hex digits>`; entries of any other name are left alone. */
const PROCESS_DIR = /^(\d+)-[0-9a-f]{16}$/;

/** The directories this process opened, still in use (several services in one process: tests, all-in-one). */
const openedHere = new Set<string>();

/**
 * 503: the temporary files cannot be written (the directory full, gone or read-only). The rest of
 * the body, if any, is not read: the connection cannot carry another request.
 */
export const temporaryStorageUnavailable = (cause: unknown): AppError =>
  new AppError(503, 'dependency_unavailable', 'A service this request needs (temporary storage) is unavailable. Try again shortly.', {
    cause,
    headers: { 'Retry-After': '5', Connection: 'close' },
  });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as { code?: string }).code === 'EPERM';
  }
};

/** The temporary files of one upload: its body as received, and its re-encoded original. */
export interface UploadFiles {
  readonly body: string;
  readonly original: string;
  /** Removes both, whichever were made; never fails (a file it cannot remove is logged). */
  remove(): Promise<void>;
}

/**
 * Where uploads are kept while they are received and processed, so that the service's memory does
 * not grow with their size: `<MEDIA_TMP_DIR>/galion-media-uploads/<pid>-<random>/`, a directory
 * per process. A process that dies leaves its files behind; the next one to open removes the
 * directories of processes that are not running any more, and those of its own pid that it did
 * not open (a container's process is pid 1 again after a restart).
 */
export class TempFiles {
  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async open(root: string, logger: Logger): Promise<TempFiles> {
    const base = join(root, TEMP_SUBDIR);
    const dir = join(base, `${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(base, { recursive: true, mode: 0o700 });
      const leftovers = (await readdir(base)).filter((entry) => {
        const pid = Number(PROCESS_DIR.exec(entry)?.[1] ?? NaN);
        if (Number.isNaN(pid)) return false;
        return pid === process.pid ? !openedHere.has(join(base, entry)) : !isAlive(pid);
      });
      for (const entry of leftovers) await rm(join(base, entry), { recursive: true, force: true });
      if (leftovers.length > 0) logger.info({ dir: base, removed: leftovers }, 'removed the temporary files of earlier processes');
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      throw new ConfigError(`MEDIA_TMP_DIR: ${root} cannot hold the uploads’ temporary files (${(error as Error).message})`);
    }
    openedHere.add(dir);
    return new TempFiles(dir, logger);
  }

  /** The files of a new upload (none is made yet). */
  async forUpload(): Promise<UploadFiles> {
    try {
      // Made again if it went (a cleaner of old files in /tmp removes an idle directory).
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw temporaryStorageUnavailable(error);
    }
    const name = join(this.dir, randomBytes(12).toString('hex'));
    const files = { body: `${name}.body`, original: `${name}.original` };
    return {
      ...files,
      remove: async () => {
        for (const file of Object.values(files)) {
          await rm(file, { force: true }).catch((error: unknown) =>
            this.logger.warn({ err: error, file }, 'a temporary file of an upload could not be removed'),
          );
        }
      },
    };
  }

  /** Removes this process's directory, with whatever is left in it. */
  async close(): Promise<void> {
    openedHere.delete(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}
