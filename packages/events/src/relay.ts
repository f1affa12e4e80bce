import { Counter, Gauge, readForScrape, type Knex, type Logger, type Registry } from '@galion/kit';
import { retryDelayMs, USER_EVENTS_TOPIC, type EventBus } from './bus.js';
import { OUTBOX_TABLE } from './outbox.js';
import type { EventEnvelope } from './schemas.js';
import { endSpans, startPublishSpan, traceparentOf } from './tracing.js';

// Any constant works: it only has to be the same for every replica of one service's relay.
const RELAY_LOCK_ID = 0x6761_6c69;

export interface OutboxRelayOptions {
  knex: Knex;
  bus: EventBus;
  logger: Logger;
  topic?: string;
  batchSize?: number;
  /** Wait between polls when the outbox is empty. */
  pollIntervalMs?: number;
  /** Published rows older than this are deleted. */
  retentionMs?: number;
  registry?: Registry;
}

/** Scrape-time queries get one second; after that the gauge keeps its last value. */
const SCRAPE_TIMEOUT_MS = 1_000;

interface OutboxRow {
  position: number;
  event_id: string;
  subject: string;
  envelope: EventEnvelope;
}

/**
 * Publishes the outbox in order: takes a batch of unpublished rows, publishes them (acks=all),
 * marks them published, all in one transaction. Several replicas may run: a transaction-scoped
 * advisory lock lets one publish at a time, so per-user order holds; if that replica dies, the
 * next takes over. While the bus is down nothing is marked and the relay retries with backoff.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastPrune = 0;
  private readonly topic: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private readonly published?: Counter;
  private readonly errors?: Counter;

  constructor(private readonly options: OutboxRelayOptions) {
    this.topic = options.topic ?? USER_EVENTS_TOPIC;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.retentionMs = options.retentionMs ?? 86_400_000;
    const registry = options.registry;
    if (registry) {
      this.published = new Counter({ name: 'outbox_published_total', help: 'Outbox events published to the bus.', registers: [registry] });
      this.errors = new Counter({
        name: 'outbox_publish_errors_total',
        help: 'Failed attempts to publish an outbox batch.',
        registers: [registry],
      });
      const knex = options.knex;
      new Gauge({
        name: 'outbox_pending_events',
        help: 'Outbox events not yet published.',
        registers: [registry],
        async collect() {
          // A scrape must succeed while the database is down (or the target looks down): keep the last value.
          const row = await readForScrape(
            knex(OUTBOX_TABLE).whereNull('published_at').count<{ count: number }[]>({ count: '*' }).first(),
            SCRAPE_TIMEOUT_MS,
          );
          if (row) this.set(Number(row.count));
        },
      });
      new Gauge({
        name: 'outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest unpublished outbox event (0 when none).',
        registers: [registry],
        async collect() {
          const row = await readForScrape(
            knex(OUTBOX_TABLE).whereNull('published_at').min<{ oldest: Date | null }[]>({ oldest: 'created_at' }).first(),
            SCRAPE_TIMEOUT_MS,
          );
          if (row) this.set(row.oldest ? Math.max(0, (Date.now() - new Date(row.oldest).getTime()) / 1000) : 0);
        },
      });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes one batch if this replica holds the relay lock; returns how many rows it published. */
  async relayOnce(): Promise<number> {
    return this.options.knex.transaction(async (trx) => {
      const { rows: lock } = await trx.raw<{ rows: { locked: boolean }[] }>('SELECT pg_try_advisory_xact_lock(?) AS locked', [
        RELAY_LOCK_ID,
      ]);
      if (!lock[0]?.locked) return 0;
      const rows: OutboxRow[] = await trx(OUTBOX_TABLE)
        .whereNull('published_at')
        .orderBy('position')
        .limit(this.batchSize)
        .select('position', 'event_id', 'subject', 'envelope');
      if (rows.length === 0) return 0;
      const spans = rows.map((row) => startPublishSpan(this.topic, row.envelope));
      try {
        await this.options.bus.publish(
          this.topic,
          rows.map((row, i) => {
            const traceparent = traceparentOf(spans[i]!) ?? row.envelope.traceparent;
            return {
              key: row.subject,
              value: JSON.stringify(row.envelope),
              headers: { 'event-id': row.event_id, 'event-type': row.envelope.type, ...(traceparent ? { traceparent } : {}) },
            };
          }),
        );
        endSpans(spans);
      } catch (error) {
        endSpans(spans, error);
        throw error;
      }
      await trx(OUTBOX_TABLE)
        .whereIn(
          'position',
          rows.map((row) => row.position),
        )
        .update({ published_at: trx.fn.now() });
      this.published?.inc(rows.length);
      return rows.length;
    });
  }

  /** Deletes published rows past retention, a bounded number at a time. */
  async prune(): Promise<number> {
    const cutoff = new Date(Date.now() - this.retentionMs);
    return this.options
      .knex(OUTBOX_TABLE)
      .whereIn(
        'position',
        this.options.knex(OUTBOX_TABLE).select('position').whereNotNull('published_at').where('published_at', '<', cutoff).limit(10_000),
      )
      .delete();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let published = 0;
      try {
        published = await this.relayOnce();
        failures = 0;
        if (Date.now() - this.lastPrune > 60_000) {
          this.lastPrune = Date.now();
          await this.prune();
        }
      } catch (error) {
        failures += 1;
        this.errors?.inc();
        this.options.logger.warn({ err: error, attempt: failures }, 'publishing the outbox failed; retrying');
      }
      if (published === this.batchSize && failures === 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, failures > 0 ? retryDelayMs(failures) : this.pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
