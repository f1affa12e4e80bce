import type { EventBus } from '@galion/events';
import { Counter, Gauge, Histogram, readForScrape, type Logger, type Registry } from '@galion/kit';

/**
 * The metrics of the feed. Their names and labels are a contract with the dashboards and alert
 * rules in the charts: change them only together.
 */
export interface FeedMetrics {
  events: Counter<'type' | 'outcome'>;
  fannedOut: Counter;
  fanoutSkipped: Counter;
  backfilled: Counter;
  removed: Counter;
  processingErrors: Counter;
  deadLettered: Counter;
  batchDuration: Histogram;
  mergedTimelines: Histogram;
}

export const createFeedMetrics = (registry: Registry): FeedMetrics => ({
  events: new Counter({
    name: 'feed_events_total',
    help: 'Valid events the consumer handled, by type and outcome: applied, duplicate (applied before), stale (a newer event of the same follow was), gone (its post, comment or user was deleted), timeline-only (a post of a big account), expired, not-feed, self-follow.',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  }),
  fannedOut: new Counter({
    name: 'feed_fanout_entries_total',
    help: 'Home feeds new posts were written to (fan-out on write: one per post and follower).',
    registers: [registry],
  }),
  fanoutSkipped: new Counter({
    name: 'feed_fanout_skipped_total',
    help: 'Posts of big accounts (more followers than FEED_FANOUT_MAX_FOLLOWERS) kept on their timeline only, merged into their followers’ home feeds when read.',
    registers: [registry],
  }),
  backfilled: new Counter({
    name: 'feed_follow_backfilled_entries_total',
    help: 'Entries a new follow copied from the followee’s timeline into the follower’s home feed.',
    registers: [registry],
  }),
  removed: new Counter({
    name: 'feed_entries_removed_total',
    help: 'Entries removed because their post or comment was deleted (or the post went back to draft) or their author’s account was.',
    registers: [registry],
  }),
  processingErrors: new Counter({
    name: 'feed_processing_errors_total',
    help: 'Batches whose handling failed and will be retried (for example while Redis is down).',
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'feed_dlq_total',
    help: 'Messages sent to the dead-letter topic because they could not be parsed or validated.',
    registers: [registry],
  }),
  batchDuration: new Histogram({
    name: 'feed_batch_duration_seconds',
    help: 'Time to apply one batch of events to Redis.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  mergedTimelines: new Histogram({
    name: 'feed_home_merged_timelines',
    help: 'Timelines of big accounts a home-feed read merged in.',
    buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250],
    registers: [registry],
  }),
});

const CONSUMER_LAG_SCRAPE_TIMEOUT_MS = 2_000;

/**
 * `feed_consumer_lag{topic,partition}`, read from the broker at scrape time (the partition's end
 * offset minus the group's committed offset), so a stuck or unassigned consumer's lag still shows and
 * grows. A broker that is down never fails a scrape nor makes it wait more than 2 s: the gauge keeps
 * its last values, and at most one read is in flight however often Prometheus scrapes.
 */
export const registerConsumerLagMetric = (
  registry: Registry,
  source: { bus: Pick<EventBus, 'consumerLag'>; groupId: string; topic: string; logger: Logger },
): Gauge<'topic' | 'partition'> => {
  let inFlight: Promise<void> | undefined;
  let failing = false;
  const measure = async (gauge: Gauge<'topic' | 'partition'>): Promise<void> => {
    try {
      for (const { partition, lag } of await source.bus.consumerLag(source.groupId, source.topic)) {
        gauge.set({ topic: source.topic, partition: String(partition) }, lag);
      }
      failing = false;
    } catch (error) {
      if (!failing)
        source.logger.warn(
          { err: error, topic: source.topic },
          'reading the consumer lag from the broker failed; /metrics keeps the last values',
        );
      failing = true;
    }
  };
  return new Gauge({
    name: 'feed_consumer_lag',
    help: "Messages of a partition the feed's consumer group has not committed yet, read from the broker at scrape time.",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      inFlight ??= measure(this).finally(() => {
        inFlight = undefined;
      });
      await readForScrape(inFlight, CONSUMER_LAG_SCRAPE_TIMEOUT_MS);
    },
  });
};
