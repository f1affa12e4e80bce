import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendToOutbox, createEvent } from '@galion/events';
import { createDatabase } from '@galion/kit';
import { startPlatform } from '@galion/launcher';
import { fmt, percentile } from './load.js';

const post = (url: string, body: unknown, token?: string, method = 'POST') =>
  fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

/**
 * End-to-end event latency, from an API call to the row being queryable in analytics, measured
 * on the distributed platform (real PostgreSQL, Redis, Kafka, one process per service) while a
 * steady background of events flows through the same outbox, relay, topic and consumer.
 */
export const benchPipeline = async ({ seconds }: { seconds: number; concurrency: number }): Promise<void> => {
  const ratePerSecond = Number(process.env.BENCH_PIPELINE_RATE ?? 1_000);
  const duration = Math.max(10, seconds) * 1000;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-pipeline-'));
  chmodSync(dataDir, 0o711);
  const platform = await startPlatform({ dataDir, output: 'ignore', env: { LOG_LEVEL: 'warn', OUTBOX_POLL_INTERVAL_MS: '20' } });
  const usersDb = createDatabase({ url: platform.databaseUrl('users'), poolMax: 4 });
  const analyticsDb = createDatabase({ url: platform.databaseUrl('analytics'), poolMax: 2 });
  try {
    const api = `${platform.gatewayUrl.replace('localhost', '127.0.0.1')}/api/v1`;
    // Sample users: each PATCH /users/me makes one user.updated event whose arrival is timed.
    const samples: { id: string; token: string }[] = [];
    for (let i = 0; i < 10; i += 1) {
      const user = { email: `pipeline${i}.${Date.now()}@example.com`, password: 'benchmark passphrase', name: `Pipeline ${i}` };
      const registered = (await (await post(`${api}/auth/register`, user)).json()) as { id: string };
      const login = (await (await post(`${api}/auth/login`, { email: user.email, password: user.password })).json()) as {
        access_token: string;
      };
      samples.push({ id: registered.id, token: login.access_token });
      await post(`${api}/users/me`, { bio: 'warm-up' }, login.access_token, 'PATCH');
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    // The background: `ratePerSecond` events written to the users outbox, as the API writes them.
    const started = Date.now();
    let background = 0;
    const backgroundTimer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * ratePerSecond) - background;
      if (due <= 0) return;
      background += due;
      const events = Array.from({ length: due }, (_, i) =>
        createEvent('user.updated', { source: 'bench', subject: `background-${(background + i) % 5000}`, data: { changes: ['bio'] } }),
      );
      void usersDb.transaction((trx) => appendToOutbox(trx, ...events));
    }, 50);

    const calls: { userId: string; startedAt: number }[] = [];
    while (Date.now() - started < duration) {
      const sample = samples[calls.length % samples.length]!;
      calls.push({ userId: sample.id, startedAt: Date.now() });
      await post(`${api}/users/me`, { bio: `sample ${calls.length}` }, sample.token, 'PATCH');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    clearInterval(backgroundTimer);
    const elapsed = (Date.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    // Match the k-th call of a user to the k-th user.updated event of that user (after the warm-up).
    const latencies: number[] = [];
    let missing = 0;
    for (const sample of samples) {
      const rows: { received_at: Date }[] = await analyticsDb('events')
        .where({ user_id: sample.id, event_type: 'user.updated' })
        .orderBy('event_time')
        .select('received_at');
      const own = calls.filter((call) => call.userId === sample.id);
      const timed = rows.slice(1);
      own.forEach((call, k) => {
        const row = timed[k];
        if (row) latencies.push(new Date(row.received_at).getTime() - call.startedAt);
        else missing += 1;
      });
    }
    latencies.sort((a, b) => a - b);
    const stored = await analyticsDb('events').where('source', 'bench').count<{ count: number }[]>({ count: '*' }).first();
    const out = [
      '',
      `Pipeline benchmark: distributed platform, background ${fmt(ratePerSecond)} events/s through outbox → Kafka → analytics for ${fmt(elapsed, 1)} s`,
      `  background events written ${fmt(background)}, stored in analytics ${fmt(Number(stored?.count ?? 0))} (${fmt(Number(stored?.count ?? 0) / elapsed)} /s)`,
      `  API call (PATCH /api/v1/users/me) → queryable analytics row, ${latencies.length} samples${missing ? `, ${missing} missing` : ''}:`,
      `    p50 ${fmt(percentile(latencies, 50))} ms   p99 ${fmt(percentile(latencies, 99))} ms   max ${fmt(latencies.at(-1) ?? 0)} ms   (target p99 < 1,000 ms)`,
      '',
    ];
    process.stdout.write(out.join('\n'));
  } finally {
    await Promise.all([usersDb.destroy(), analyticsDb.destroy()]);
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
