/**
 * The event bus every service depends on. Two transports implement it: Kafka (kafkajs) in every
 * real deployment, and an in-process bus for the all-in-one mode. Nothing outside the transports
 * knows which one runs, so the Kafka client can be replaced in one place.
 */
export interface OutgoingMessage {
  /** Partitioning key: the user id, so one user's events keep their order. */
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** When the broker (or bus) accepted the message, in ms since the epoch. */
  timestamp: number;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
}

export interface SubscribeOptions {
  groupId: string;
  topic: string;
  /**
   * Handles a batch. The batch's offsets are committed only after this resolves; if it throws,
   * the same messages are offered again after a growing delay (at-least-once delivery).
   */
  handleBatch: (batch: IncomingBatch) => Promise<void>;
  /** Where a new group starts: the oldest message (true, default) or only new ones. */
  fromBeginning?: boolean;
  /** Called when handling fails and will be retried; for logs and metrics. */
  onRetry?: (error: unknown, attempt: number) => void;
}

export interface Subscription {
  /** True once the consumer has joined its group and is receiving. */
  readonly ready: boolean;
  stop(): Promise<void>;
}

/** How far a consumer group is behind on one partition of a topic. */
export interface PartitionLag {
  partition: number;
  /** Messages the group has not committed yet: see EventBus.consumerLag. */
  lag: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface EventBus {
  /** Resolves once every message is durably accepted (Kafka: acks from all in-sync replicas). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Creates the topics that do not exist yet. */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /**
   * How far `groupId` is behind on each partition of `topic`, read from the broker as
   * kafka-exporter and Burrow do: the partition's end offset (high watermark) minus the group's
   * committed offset; where the group has committed nothing (or only offsets retention has since
   * deleted), the end offset minus the partition's start offset, i.e. every retained message.
   * Independent of whether the group's consumers run: a stopped or stuck group's lag grows.
   * Sorted by partition. On Kafka it fails when the broker does not answer or the topic does not exist.
   */
  consumerLag(groupId: string, topic: string): Promise<PartitionLag[]>;
  /** Checks that the transport is reachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const USER_EVENTS_TOPIC = 'user-events';
export const USER_EVENTS_DLQ_TOPIC = 'user-events.dlq';
/** Events applications send through the tracking API, keyed by user or visitor. */
export const APP_EVENTS_TOPIC = 'app-events';
export const APP_EVENTS_DLQ_TOPIC = 'app-events.dlq';

/** Delay before the n-th retry of a failed batch: doubling from 100 ms, at most 5 s. */
export const retryDelayMs = (attempt: number): number => Math.min(5_000, 100 * 2 ** Math.min(attempt, 10));
