import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createLogger } from '@galion/kit';
import { TEMP_SUBDIR, TempFiles } from '../src/storage/temp-files';

const logger = createLogger({ service: 'media-test', level: 'silent' });

/** Above Linux's largest pid (PID_MAX_LIMIT, 2^22): no process ever has it. */
const DEAD_PID = 4_194_305;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'galion-media-temp-files-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A directory a process left under the service's subdirectory, with a file in it. */
const leftover = (name: string): string => {
  const dir = join(root, TEMP_SUBDIR, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'abc.body'), 'half an image');
  return dir;
};

describe('the temporary files of uploads', () => {
  it('when the service opens them, then it removes what dead processes and an earlier process of its pid left, and nothing else', async () => {
    const dead = leftover(`${DEAD_PID}-0123456789abcdef`);
    const samePid = leftover(`${process.pid}-fedcba9876543210`);
    const running = leftover(`${process.ppid}-00112233445566aa`);
    const notOurs = leftover('photos');
    writeFileSync(join(root, TEMP_SUBDIR, '12-notes.txt'), 'someone else’s');
    writeFileSync(join(root, 'other.txt'), 'outside the subdirectory');

    const files = await TempFiles.open(root, logger);

    expect([dead, samePid].filter(existsSync)).toEqual([]);
    expect([running, notOurs, join(root, TEMP_SUBDIR, '12-notes.txt'), join(root, 'other.txt')].every(existsSync)).toBe(true);
    await files.close();
  });

  it('when a second service of the same process opens them, then the first one’s directory stays', async () => {
    const first = await TempFiles.open(root, logger);
    const upload = await first.forUpload();
    writeFileSync(upload.body, 'an image on its way');

    const second = await TempFiles.open(root, logger);

    expect(existsSync(upload.body)).toBe(true);
    await second.close();
    await first.close();
  });

  it('when an upload’s files are removed, then both go, also when only the body was written; when the service closes, its directory goes', async () => {
    const files = await TempFiles.open(root, logger);
    const bodyOnly = await files.forUpload();
    writeFileSync(bodyOnly.body, 'refused before processing');
    const both = await files.forUpload();
    writeFileSync(both.body, 'the upload');
    writeFileSync(both.original, 'its re-encoding');
    expect(new Set([bodyOnly.body, both.body]).size).toBe(2);

    await bodyOnly.remove();
    await both.remove();

    expect([bodyOnly.body, both.body, both.original].filter(existsSync)).toEqual([]);
    await files.close();
    expect(readdirSync(join(root, TEMP_SUBDIR))).toEqual([]);
  });

  it('when its directory was removed meanwhile (a cleaner of /tmp), then the next upload makes it again', async () => {
    const files = await TempFiles.open(root, logger);
    rmSync(join(root, TEMP_SUBDIR), { recursive: true });

    const upload = await files.forUpload();

    expect(() => writeFileSync(upload.body, 'still taken')).not.toThrow();
    await files.close();
  });

  it('when MEDIA_TMP_DIR cannot hold a directory (it is a file), then the start fails naming MEDIA_TMP_DIR', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    await expect(TempFiles.open(file, logger)).rejects.toThrow(ConfigError);
    await expect(TempFiles.open(file, logger)).rejects.toThrow(/^MEDIA_TMP_DIR: /);
  });
});
