import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../src/index';

const query = async (url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResultRow[]> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
};

describe('startPostgres', () => {
  // A data dir of the test's own, which the server's OS user (postgres, when tests run as root) can reach.
  const parentDir = mkdtempSync(join(tmpdir(), 'galion-pg-test-'));
  chmodSync(parentDir, 0o755);
  afterAll(() => rmSync(parentDir, { recursive: true, force: true }));

  test('serves PostgreSQL 18 on 127.0.0.1 and keeps its data across stop and start', async () => {
    const postgres = await startPostgres({ persistent: true });
    try {
      const [settings] = await query(
        postgres.url,
        "SELECT current_setting('server_version_num')::int AS version, current_setting('listen_addresses') AS listen",
      );
      expect(settings).toEqual({ version: expect.any(Number), listen: '127.0.0.1' });
      expect(settings?.version).toBeGreaterThanOrEqual(180000);
      await query(postgres.url, 'CREATE TABLE notes (body text)');
      await query(postgres.url, 'INSERT INTO notes VALUES ($1)', ['kept']);

      await postgres.stop();
      await expect(query(postgres.url, 'SELECT 1')).rejects.toThrow();
      await postgres.start();

      expect(await query(postgres.url, 'SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
    } finally {
      await postgres.stop();
    }
  });

  test('a new server reuses an initialised data dir', async () => {
    const dataDir = join(parentDir, 'reused');
    const first = await startPostgres({ dataDir, persistent: true, user: 'galion', password: 'secret word' });
    try {
      await query(first.urlFor('postgres'), 'CREATE DATABASE survivor');
      await query(first.urlFor('survivor'), 'CREATE TABLE notes (body text)');
      await query(first.urlFor('survivor'), "INSERT INTO notes VALUES ('still here')");
    } finally {
      await first.stop();
    }

    const second = await startPostgres({ dataDir, persistent: true, user: 'galion', password: 'secret word' });
    try {
      expect(second.port).not.toBe(first.port);
      expect(await query(second.urlFor('survivor'), 'SELECT body FROM notes')).toEqual([{ body: 'still here' }]);
    } finally {
      await second.stop();
    }
  });

  test('deletes the data of a non-persistent server on stop', async () => {
    const dataDir = join(parentDir, 'throwaway');
    const postgres = await startPostgres({ dataDir });
    await query(postgres.url, 'CREATE TABLE notes (body text)');
    await postgres.stop();
    await postgres.start();
    try {
      await expect(query(postgres.url, 'SELECT body FROM notes')).rejects.toThrow(/does not exist/);
    } finally {
      await postgres.stop();
    }
  });
});
