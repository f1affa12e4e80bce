import { createServer } from 'node:net';
import express from 'express';
import pg from 'pg';
import { freePort, startTestServer, testDatabase } from '../src/index';

const query = async (url: string, sql: string): Promise<pg.QueryResultRow[]> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

describe('testDatabase', () => {
  test('gives each caller a database of its own', async () => {
    const first = await testDatabase('Isolation-Check');
    const second = await testDatabase('Isolation-Check');
    try {
      expect(first.name).toMatch(/^isolation_check_/);
      expect(first.name).not.toBe(second.name);
      expect(await query(first.url, 'SELECT current_database() AS name')).toEqual([{ name: first.name }]);

      await query(first.url, 'CREATE TABLE only_here (id int)');
      expect(await query(first.url, "SELECT to_regclass('only_here') IS NOT NULL AS found")).toEqual([{ found: true }]);
      expect(await query(second.url, "SELECT to_regclass('only_here') IS NOT NULL AS found")).toEqual([{ found: false }]);
    } finally {
      await Promise.all([first.drop(), second.drop()]);
    }
  });

  test('drop ends open connections and removes the database', async () => {
    const database = await testDatabase('dropped');
    const holder = new pg.Client({ connectionString: database.url });
    holder.on('error', () => undefined);
    await holder.connect();

    await database.drop();

    await expect(holder.query('SELECT 1')).rejects.toThrow();
    await expect(query(database.url, 'SELECT 1')).rejects.toThrow(/does not exist/);
  });
});

describe('startTestServer', () => {
  test('serves an Express app on 127.0.0.1 and closes despite keep-alive connections', async () => {
    const app = express();
    app.get('/hello', (_request, response) => void response.json({ hello: 'world' }));
    const server = await startTestServer(app);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const response = await fetch(`${server.url}/hello`);
    expect(await response.json()).toEqual({ hello: 'world' });

    await server.close();
    await expect(fetch(`${server.url}/hello`)).rejects.toThrow();
  });
});

describe('freePort', () => {
  test('hands out distinct ports that can be listened on', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
