// `node apps/bench/dist/synthetic-main.js produce|generate ...`: synthetic events for demos and the
// benchmark suite (a tool beside analytics, not in its image).
//   produce  --brokers host:port[,...] [--topic user-events] [--partitions 3] --count N [--users U]
//   generate --database-url postgres://... --events N [--days 30] [--users U] [--end ISO-time]
// Prints one JSON line with what it did and how long it took.
import { parseArgs } from 'node:util';
import { KafkaEventBus, USER_EVENTS_DLQ_TOPIC, USER_EVENTS_TOPIC } from '@galion/events';
import { createDatabase, createLogger, ensureDatabaseExists, runMain } from '@galion/kit';
import { generateSyntheticHistory, publishSyntheticEvents } from './synthetic-data.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string', default: USER_EVENTS_TOPIC },
    partitions: { type: 'string', default: '3' },
    count: { type: 'string' },
    users: { type: 'string', default: '100000' },
    'database-url': { type: 'string' },
    events: { type: 'string' },
    days: { type: 'string', default: '30' },
    end: { type: 'string' },
  },
});

const count = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!value || !Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive whole number`);
  return parsed;
};

runMain(async () => {
  const started = performance.now();
  const logger = createLogger({ service: 'synthetic', level: 'error' });
  const [command] = positionals;
  if (command === 'produce') {
    if (!values.brokers) throw new Error('--brokers is required');
    const bus = new KafkaEventBus({ brokers: values.brokers.split(','), clientId: 'galion-synthetic', logger });
    try {
      await bus.ensureTopics([
        { name: values.topic, partitions: count('partitions', values.partitions) },
        { name: values.topic === USER_EVENTS_TOPIC ? USER_EVENTS_DLQ_TOPIC : `${values.topic}.dlq`, partitions: 1 },
      ]);
      const events = count('count', values.count);
      await publishSyntheticEvents(bus, { topic: values.topic, count: events, users: count('users', values.users) });
      process.stdout.write(`${JSON.stringify({ command, events, seconds: (performance.now() - started) / 1000 })}\n`);
    } finally {
      await bus.close();
    }
  } else if (command === 'generate') {
    const url = values['database-url'];
    if (!url) throw new Error('--database-url is required');
    await ensureDatabaseExists(url);
    const knex = createDatabase({ url, poolMax: 2, statementTimeoutMs: 0 });
    try {
      const events = count('events', values.events);
      await generateSyntheticHistory(knex, {
        events,
        days: count('days', values.days),
        users: count('users', values.users),
        end: values.end ? new Date(values.end) : new Date(),
      });
      process.stdout.write(`${JSON.stringify({ command, events, seconds: (performance.now() - started) / 1000 })}\n`);
    } finally {
      await knex.destroy();
    }
  } else {
    throw new Error('usage: synthetic-main.js produce|generate [options] (see the header of apps/bench/src/synthetic-main.ts)');
  }
});
