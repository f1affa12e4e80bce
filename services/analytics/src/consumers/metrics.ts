import type { EventBus } from '@galion/events';
import { Counter, Gauge, Histogram, readForScrape, type Logger, type Registry } from '@galion/kit';

/**
 * The metrics of the analytics consumer. Their names and labels are a contract with the dashboards and
 * alert rules in the charts: change them only together.
 */
export interface AnalyticsMetrics {
  eventsProcessed: Counter;
  eventsStored: Counter;
  processingErrors: Counter;
  deadLettered: Counter;
  batchSize: Histogram;
  batchDuration: Histogram;
  eventLatency: Histogram;
  trackedEvents: Counter<'outcome'>;
  appEventsStored: Counter;
  appEventLatency: Histogram;
  erasures: Counter;
}

export const createAnalyticsMetrics = (registry: Registry): AnalyticsMetrics => ({
  eventsProcessed: new Counter({
    name: 'analytics_events_processed_total',
    help: 'Valid events the consumer handled (stored, duplicate or past retention), counted once their batch committed.',
    registers: [registry],
  }),
  eventsStored: new Counter({
    name: 'analytics_events_stored_total',
    help: 'Events stored for the first time (duplicates are not counted).',
    registers: [registry],
  }),
  processingErrors: new Counter({
    name: 'analytics_processing_errors_total',
    help: 'Batches whose handling failed and will be retried (for example while PostgreSQL is down).',
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'analytics_dlq_total',
    help: 'Messages sent to the dead-letter topic because they could not be parsed or validated.',
    registers: [registry],
  }),
  batchSize: new Histogram({
    name: 'analytics_batch_size',
    help: 'Messages per consumed batch.',
    buckets: [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
    registers: [registry],
  }),
  batchDuration: new Histogram({
    name: 'analytics_batch_duration_seconds',
    help: 'Time to store one batch (one PostgreSQL transaction).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  eventLatency: new Histogram({
    name: 'analytics_event_latency_seconds',
    help: 'End-to-end latency of stored events: the time their batch committed minus the event time.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  }),
  trackedEvents: new Counter({
    name: 'analytics_tracked_events_total',
    help: 'Events the tracking API answered for: outcome="accepted" (published to Kafka) or "refused" (invalid, with the reason in the answer).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  appEventsStored: new Counter({
    name: 'analytics_app_events_stored_total',
    help: 'Application events stored for the first time (duplicates and events of erased users are not counted).',
    registers: [registry],
  }),
  appEventLatency: new Histogram({
    name: 'analytics_app_event_latency_seconds',
    help: 'From the tracking API accepting an application event (its 202) to its batch committing: when it becomes queryable.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  }),
  erasures: new Counter({
    name: 'analytics_user_erasures_total',
    help: 'Deleted users whose events and rollup shares were erased (user.deleted).',
    registers: [registry],
  }),
});

export interface ConsumerLagSource {
  bus: Pick<EventBus, 'consumerLag'>;
  /** Each consumer group of this service and the topic it reads. */
  subscriptions: { groupId: string; topic: string }[];
  logger: Logger;
  /** Longest a scrape waits for the broker before answering with the last values. Default 2 s. */
  timeoutMs?: number;
}

export const CONSUMER_LAG_SCRAPE_TIMEOUT_MS = 2_000;

/**
 * `analytics_consumer_lag{topic,partition}`, measured from the broker at scrape time (end offset
 * minus the group's committed offset, see EventBus.consumerLag) rather than from the batches the
 * consumer receives: a consumer that is stuck, not assigned or crashing receives none, and its lag
 * must still show and grow. Every consumer replica reports the whole group's lag, so dashboards and
 * alerts take the max per partition across instances. A broker that is down or slow never makes
 * the scrape fail or take more than `timeoutMs`: the gauge keeps its last values, and at most one
 * read is in flight however often Prometheus scrapes (a late answer still updates the gauge).
 */
export const registerConsumerLagMetric = (registry: Registry, source: ConsumerLagSource): Gauge<'topic' | 'partition'> => {
  const timeoutMs = source.timeoutMs ?? CONSUMER_LAG_SCRAPE_TIMEOUT_MS;
  let inFlight: Promise<void> | undefined;
  let failing = false;
  const measure = async (gauge: Gauge<'topic' | 'partition'>): Promise<void> => {
    const topics = source.subscriptions.map(({ topic }) => topic);
    try {
      const lags = await Promise.all(source.subscriptions.map(({ groupId, topic }) => source.bus.consumerLag(groupId, topic)));
      lags.forEach((partitions, i) => {
        for (const { partition, lag } of partitions) gauge.set({ topic: topics[i]!, partition: String(partition) }, lag);
      });
      if (failing) source.logger.info({ topics }, 'reading the consumer lag works again');
      failing = false;
    } catch (error) {
      // Once per outage: the broker client logs its own errors, and a scrape comes every few seconds.
      if (!failing) {
        source.logger.warn({ err: error, topics }, 'reading the consumer lag from the broker failed; /metrics keeps the last values');
      }
      failing = true;
    }
  };
  return new Gauge({
    name: 'analytics_consumer_lag',
    help: "Messages of a partition the consumer group has not committed yet: the partition's end offset minus the group's committed offset (minus the start offset where it has none), read from the broker at scrape time.",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      inFlight ??= measure(this).finally(() => {
        inFlight = undefined;
      });
      await readForScrape(inFlight, timeoutMs);
    },
  });
};
