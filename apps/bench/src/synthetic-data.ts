import { createEvent, type EventBus, type EventEnvelope, type EventType } from '@galion/events';
import { analyticsMigrations, DAY_MS, floorDay, HOUR_MS, PartitionRepository, USERS_PER_BLOCK } from '@galion/analytics/store-layout';
import { migrateLatest, type Knex } from '@galion/kit';

/**
 * Synthetic user events, for demos and the benchmark suite: a realistic mix of types over many
 * users, either published to the event topic or written straight into the store.
 */

/** The mix of event types, in percent: mostly logins, as in a live product. */
const MIX: [EventType, number][] = [
  ['user.logged_in', 55],
  ['user.logged_out', 15],
  ['user.login_failed', 10],
  ['user.updated', 8],
  ['user.registered', 5],
  ['user.email_verified', 3],
  ['user.password_changed', 3],
  ['user.deleted', 1],
];

const typeFor = (percentile: number): EventType => {
  let bound = 0;
  for (const [type, share] of MIX) {
    bound += share;
    if (percentile < bound) return type;
  }
  return 'user.logged_in';
};

/** The user of the `i`-th synthetic event: every user in turn, in a scrambled order. */
const userOf = (i: number, users: number): number => (i * 7_919) % users;

/** The mix percentile of the `i`-th event; a user's successive events go through the mix. */
const percentileOf = (i: number, users: number): number => (i * 37 + Math.floor(i / users) * 11) % 100;

/** The `i`-th synthetic event, for one of `users` users, at `time`. */
export const syntheticEvent = (i: number, users: number, time: Date): EventEnvelope => {
  const user = `user-${userOf(i, users)}`;
  const type = typeFor(percentileOf(i, users));
  // The mix (typeFor) draws only these types.
  const data: Partial<Record<EventType, object>> = {
    'user.logged_in': { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, user_agent: 'synthetic/1.0' },
    'user.logged_out': { all_sessions: i % 10 === 0 },
    'user.login_failed': { reason: 'wrong_password', ip: '203.0.113.9' },
    'user.updated': { changes: ['name'], name: `User ${i}` },
    'user.registered': { email: `${user}@example.com`, name: user, role: 'user' },
    'user.email_verified': { email: `${user}@example.com` },
    'user.password_changed': { reason: 'change' },
    'user.deleted': {},
  };
  return createEvent(type, { source: 'synthetic', subject: user, data: data[type] as never, time });
};

/** Publishes `count` synthetic events to `topic`, `chunk` per request; event times spread over the last minute. */
export const publishSyntheticEvents = async (
  bus: EventBus,
  options: { topic: string; count: number; users: number; chunk?: number },
): Promise<void> => {
  const chunk = options.chunk ?? 5_000;
  const now = Date.now();
  for (let start = 0; start < options.count; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(options.count, start + chunk); i += 1) {
      const event = syntheticEvent(i, options.users, new Date(now - 60_000 + Math.floor((i / options.count) * 60_000)));
      messages.push({ key: event.subject, value: JSON.stringify(event) });
    }
    await bus.publish(options.topic, messages);
  }
};

/**
 * Writes `events` events spread evenly over the `days` days before `end`, for `users` users,
 * straight into the store with SQL (no consumer), and the rollups the consumer would have built.
 * The i-th event's time, user and type follow integer formulas that SQL and this code compute
 * alike, so the rollups are computed here in one pass instead of aggregating the events again.
 * Meant for an empty database: it migrates it first.
 */
export const generateSyntheticHistory = async (
  knex: Knex,
  options: { events: number; days: number; users: number; end: Date; parallel?: number; onProgress?: (done: number) => void },
): Promise<void> => {
  await migrateLatest(knex, analyticsMigrations);
  const { events, users } = options;
  const startMs = Math.floor((options.end.getTime() - options.days * DAY_MS) / 1000) * 1000;
  const stepMicros = Math.floor((options.days * DAY_MS * 1000) / events);
  const timeMicros = (i: number) => startMs * 1000 + i * stepMicros;

  const days: Date[] = [];
  for (let day = floorDay(new Date(startMs)); day.getTime() * 1000 <= timeMicros(events - 1); day = new Date(day.getTime() + DAY_MS))
    days.push(day);
  await new PartitionRepository(knex).ensure(days);

  const typeCase = MIX.reduce((sql, [type], index) => {
    const bound = MIX.slice(0, index + 1).reduce((sum, [, share]) => sum + share, 0);
    return `${sql} WHEN r < ${bound} THEN '${type}'`;
  }, 'CASE');
  const perChunk = Math.ceil(events / (options.days * 2));
  const chunks: [number, number][] = [];
  for (let first = 0; first < events; first += perChunk) chunks.push([first, Math.min(events, first + perChunk) - 1]);
  let done = 0;
  // A few sessions at once: one INSERT ... SELECT keeps a single core busy.
  const worker = async () => {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
      const [first, last] = chunk;
      await knex.raw(
        `INSERT INTO events (event_id, event_time, event_type, user_id, user_idx, source, version, data, received_at)
         SELECT gen_random_uuid(), t, ${typeCase} ELSE 'user.logged_in' END,
                'user-' || ((g * 7919) % ?), (g * 7919) % ?, 'synthetic', 1, '{"ip":"203.0.113.7"}'::jsonb, t + interval '40 ms'
           FROM (SELECT g, ?::timestamptz + (g * ?::bigint) * interval '1 microsecond' AS t, (g * 37 + (g / ?) * 11) % 100 AS r
                   FROM generate_series(?::bigint, ?::bigint) AS g) AS s`,
        [users, users, new Date(startMs), stepMicros, users, first, last],
      );
      done += last - first + 1;
      options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));

  // The rollups, computed here with the same formulas.
  const counts = new Map<string, number>();
  const hourly = new Map<number, Uint8Array>();
  const bitmapBytes = Math.ceil(users / 8);
  for (let i = 0; i < events; i += 1) {
    const hour = Math.floor(timeMicros(i) / (HOUR_MS * 1000)) * HOUR_MS;
    const key = `${hour}|${typeFor(percentileOf(i, users))}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    let bits = hourly.get(hour);
    if (!bits) hourly.set(hour, (bits = new Uint8Array(bitmapBytes)));
    const idx = userOf(i, users);
    bits[idx >> 3]! |= 0x80 >> (idx & 7);
  }
  const [buckets, types, values]: [string[], string[], number[]] = [[], [], []];
  for (const [key, count] of counts) {
    const [hour, type] = key.split('|') as [string, string];
    buckets.push(new Date(Number(hour)).toISOString());
    types.push(type);
    values.push(count);
  }
  await knex.raw(
    'INSERT INTO event_counts_hourly (bucket, event_type, count) SELECT * FROM unnest(?::timestamptz[], ?::text[], ?::bigint[])',
    [buckets, types, values],
  );
  // user-N is user number N.
  await knex.raw(`INSERT INTO user_ids (user_id, idx) OVERRIDING SYSTEM VALUE SELECT 'user-' || n, n FROM generate_series(0, ? - 1) AS n`, [
    users,
  ]);
  await knex.raw(`ALTER TABLE user_ids ALTER COLUMN idx RESTART WITH ${Math.floor(users)}`);
  const daily = new Map<number, Uint8Array>();
  for (const [hour, bits] of hourly) {
    const day = floorDay(new Date(hour)).getTime();
    const into = daily.get(day) ?? new Uint8Array(bitmapBytes);
    for (let i = 0; i < bits.length; i += 1) into[i]! |= bits[i]!;
    daily.set(day, into);
  }
  for (const [table, bitmaps] of [
    ['active_users_hourly', hourly],
    ['active_users_daily', daily],
  ] as const) {
    const rows: { bucket: string; block: number; users: string }[] = [];
    for (const [bucket, bits] of bitmaps) {
      for (let block = 0; block * (USERS_PER_BLOCK / 8) < bits.length; block += 1) {
        const slice = new Uint8Array(USERS_PER_BLOCK / 8);
        slice.set(bits.subarray(block * (USERS_PER_BLOCK / 8), (block + 1) * (USERS_PER_BLOCK / 8)));
        if (slice.some((byte) => byte !== 0)) {
          rows.push({ bucket: new Date(bucket).toISOString(), block, users: Buffer.from(slice).toString('hex') });
        }
      }
    }
    for (let i = 0; i < rows.length; i += 2_000) {
      const part = rows.slice(i, i + 2_000);
      await knex.raw(
        `INSERT INTO ?? (bucket, block, users)
         SELECT bucket, block, ('x' || users)::bit(8192) FROM unnest(?::timestamptz[], ?::integer[], ?::text[]) AS t(bucket, block, users)`,
        [table, part.map((row) => row.bucket), part.map((row) => row.block), part.map((row) => row.users)],
      );
    }
  }
  await knex.raw('ANALYZE events');
  for (const table of ['event_counts_hourly', 'user_ids', 'active_users_hourly', 'active_users_daily'])
    await knex.raw(`VACUUM ANALYZE ${table}`);
};
