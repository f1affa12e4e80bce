import { Counter, Gauge, Histogram, type Registry } from '@galion/kit';

/**
 * The analytics domain metrics. Their names and labels are a contract with the dashboards and
 * alert rules in the charts: change them only together.
 */
export interface AnalyticsMetrics {
  eventsProcessed: Counter;
  eventsStored: Counter;
  processingErrors: Counter;
  deadLettered: Counter;
  consumerLag: Gauge<'topic' | 'partition'>;
  batchSize: Histogram;
  batchDuration: Histogram;
  eventLatency: Histogram;
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
  consumerLag: new Gauge({
    name: 'analytics_consumer_lag',
    help: 'Messages of a partition not yet handed to the consumer, after its last batch.',
    labelNames: ['topic', 'partition'] as const,
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
});
