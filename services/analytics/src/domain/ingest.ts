import type { EventEnvelope } from '@galion/events';
import type { Knex, Logger } from '@galion/kit';
import { BoundedMap } from '../bounded-map.js';
import { activityBitmaps, type ActiveUserRepository } from '../repositories/active-users.js';
import { KEPT_EVENT_TYPE, type ErasureCounts, type ErasureRepository } from '../repositories/erasure.js';
import type { EventRepository } from '../repositories/events.js';
import { KnownPartitions, type PartitionRepository } from '../repositories/partitions.js';
import { DAY_MS, retentionCutoff } from '../time.js';

/** User numbers kept in memory: about 100 bytes each. */
const USER_NUMBER_CACHE_SIZE = 500_000;

/** How far in the future an event time may be (producer clock skew) before the event is refused. */
export const MAX_FUTURE_MS = DAY_MS;

export interface IngestResult {
  /** Events stored for the first time. */
  stored: number;
  /** Events that were already stored (redeliveries). */
  duplicates: number;
  /** Events older than the raw-event retention: neither stored nor counted. */
  expired: number;
  /** Late or redelivered events of users whose events were erased (user.deleted): not stored. */
  erased: number;
  /** Events refused (positions in the input), to be dead-lettered with the reason. */
  rejected: { index: number; reason: string }[];
  /** For each stored event, seconds from its event time to the commit. */
  latenciesSeconds: number[];
  /** The users of the batch's user.deleted events, erased in its transaction (docs/analytics.md: Erasure), and what went. */
  erasure: ErasureCounts & { users: string[] };
}

export interface EventIngestorDeps {
  events: EventRepository;
  activeUsers: ActiveUserRepository;
  partitions: PartitionRepository;
  erasure: ErasureRepository;
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
}

/**
 * Stores batches of validated events: one transaction (one statement) per batch, idempotent (a
 * redelivered event is neither stored nor counted twice), with the rollups (hourly counts,
 * active-user bitmaps) updated in the same transaction. A batch with user.deleted events erases
 * those users in that same transaction: one commit, and the rollup rows both write locked once.
 */
export class EventIngestor {
  private readonly now: () => Date;
  private readonly partitions: KnownPartitions;
  /** User numbers already committed (they never change), so a batch asks the database only for new users. */
  private readonly knownUsers = new BoundedMap<string, number>(USER_NUMBER_CACHE_SIZE);

  constructor(private readonly deps: EventIngestorDeps) {
    this.now = deps.now ?? (() => new Date());
    this.partitions = new KnownPartitions(deps.partitions, deps.logger);
  }

  async ingest(events: EventEnvelope[]): Promise<IngestResult> {
    const now = this.now();
    const cutoff = retentionCutoff(now, this.deps.retentionDays).getTime();
    const latest = now.getTime() + MAX_FUTURE_MS;
    const inRange: EventEnvelope[] = [];
    // Each event's time, parsed once (ms), beside it.
    const inRangeTimes: number[] = [];
    const rejected: IngestResult['rejected'] = [];
    let expired = 0;
    events.forEach((event, index) => {
      const time = Date.parse(event.time);
      if (time > latest) rejected.push({ index, reason: `event time ${event.time} is more than a day in the future` });
      else if (time < cutoff) expired += 1;
      else {
        inRange.push(event);
        inRangeTimes.push(time);
      }
    });
    if (expired > 0) this.deps.logger.debug({ expired }, 'events older than the retention skipped');
    const erasedUsers = await this.deps.erasure.erasedAmong(inRange.map((event) => event.subject));
    const accepted: EventEnvelope[] = [];
    const acceptedTimes: number[] = [];
    inRange.forEach((event, i) => {
      if (erasedUsers.has(event.subject) && event.type !== KEPT_EVENT_TYPE) return;
      accepted.push(event);
      acceptedTimes.push(inRangeTimes[i]!);
    });

    // Every valid deletion erases, even one past the retention or refused for its time, as before batching.
    const deleted = [...new Set(events.filter((event) => event.type === KEPT_EVENT_TYPE).map((event) => event.subject))];
    let times: number[] = [];
    let erasure: ErasureCounts = { platformEvents: 0, appEvents: 0, activityRows: 0 };
    try {
      await this.partitions.ensureFor(acceptedTimes);
      const numbers = accepted.length > 0 ? await this.userNumbers(accepted) : new Map<string, number>();
      const store = (db?: Knex) => {
        if (accepted.length === 0) return Promise.resolve([]);
        const hits = accepted.map((event, i) => ({ time: acceptedTimes[i]!, idx: numbers.get(event.subject)! }));
        return this.deps.events.storeBatch({ events: accepted, times: acceptedTimes, userNumbers: numbers, bitmaps: activityBitmaps(hits) }, db);
      };
      if (deleted.length === 0) times = await store();
      else
        [times, erasure] = await this.deps.events.transaction(async (trx) => [
          await store(trx),
          await this.deps.erasure.erase(deleted, trx),
        ]);
    } catch (error) {
      this.partitions.forget();
      throw error;
    }
    const committed = Date.now();
    return {
      stored: times.length,
      duplicates: accepted.length - times.length,
      expired,
      erased: inRange.length - accepted.length,
      rejected,
      latenciesSeconds: times.map((time) => Math.max(0, committed - time) / 1000),
      erasure: { users: deleted, ...erasure },
    };
  }

  /**
   * The number of every subject of the batch: from memory, or given by the database for users not
   * seen yet. Numbering commits on its own (a number without events is harmless), so the numbers
   * kept in memory are always committed ones.
   */
  private async userNumbers(events: EventEnvelope[]): Promise<Map<string, number>> {
    const numbers = new Map<string, number>();
    const unknown: string[] = [];
    for (const { subject } of events) {
      if (numbers.has(subject)) continue;
      const known = this.knownUsers.get(subject);
      if (known === undefined) unknown.push(subject);
      else numbers.set(subject, known);
    }
    if (unknown.length > 0) {
      for (const [user, idx] of await this.deps.activeUsers.numbers(unknown)) {
        numbers.set(user, idx);
        this.knownUsers.set(user, idx);
      }
    }
    return numbers;
  }
}
