import {
  retryDelayMs,
  type EventBus,
  type IncomingMessage,
  type OutgoingMessage,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from './bus.js';

const MAX_BATCH = 500;
/** Messages kept after every group has read them, so memory stays bounded in a long run. */
const RETAINED_AFTER_READ = 10_000;

interface Topic {
  /** Offset of `log[0]`: older messages have been dropped. */
  base: number;
  log: IncomingMessage[];
  /** Next offset to read, per consumer group. */
  groups: Map<string, number>;
  waiters: Set<() => void>;
}

/**
 * The event bus of the all-in-one mode: one ordered log per topic, in memory, with consumer
 * groups that keep their offset and retry a failed batch as the Kafka transport does. Events do
 * not outlive the process; the outbox in PostgreSQL is what makes them durable.
 */
export class InProcessEventBus implements EventBus {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Set<Subscription>();

  private topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = { base: 0, log: [], groups: new Map(), waiters: new Set() };
      this.topics.set(name, topic);
    }
    return topic;
  }

  async publish(topicName: string, messages: OutgoingMessage[]): Promise<void> {
    const topic = this.topic(topicName);
    for (const message of messages) {
      topic.log.push({
        topic: topicName,
        partition: 0,
        offset: String(topic.base + topic.log.length),
        key: message.key,
        value: Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value),
        headers: { ...(message.headers ?? {}) },
        timestamp: Date.now(),
      });
    }
    this.wake(topic);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const topic = this.topic(options.topic);
    const end = topic.base + topic.log.length;
    if (!topic.groups.has(options.groupId)) topic.groups.set(options.groupId, options.fromBeginning === false ? end : topic.base);
    let running = true;

    const waitForMessages = () =>
      new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          topic.waiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, 1_000);
        topic.waiters.add(finish);
      });

    const loop = async () => {
      let attempt = 0;
      while (running) {
        const next = topic.groups.get(options.groupId) ?? topic.base;
        const end = topic.base + topic.log.length;
        if (next >= end) {
          await waitForMessages();
          continue;
        }
        const messages = topic.log.slice(next - topic.base, next - topic.base + MAX_BATCH);
        try {
          await options.handleBatch({ topic: options.topic, partition: 0, messages });
          topic.groups.set(options.groupId, next + messages.length);
          attempt = 0;
          this.trim(topic);
        } catch (error) {
          attempt += 1;
          options.onRetry?.(error, attempt);
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
        }
      }
    };
    const finished = loop();
    const subscription: Subscription = {
      ready: true,
      stop: async () => {
        running = false;
        this.wake(topic);
        await finished;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    for (const { name } of topics) this.topic(name);
  }

  /** One partition (0): the end of the log minus the group's position, or minus its start for a group that never read it. */
  async consumerLag(groupId: string, topicName: string): Promise<PartitionLag[]> {
    const topic = this.topics.get(topicName);
    if (!topic) return [];
    const end = topic.base + topic.log.length;
    const position = Math.max(topic.groups.get(groupId) ?? topic.base, topic.base);
    return [{ partition: 0, lag: end - position }];
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }

  /** The messages of a topic still held (for tests and local inspection of the dead-letter topic). */
  messages(topicName: string): readonly IncomingMessage[] {
    return this.topic(topicName).log;
  }

  private wake(topic: Topic): void {
    for (const waiter of [...topic.waiters]) waiter();
  }

  private trim(topic: Topic): void {
    const slowest = Math.min(...topic.groups.values());
    const droppable = slowest - RETAINED_AFTER_READ - topic.base;
    if (droppable > RETAINED_AFTER_READ) {
      topic.log.splice(0, droppable);
      topic.base += droppable;
    }
  }
}
