import type { EventEnvelope } from '@galion/events';
import type { FeedStore, WriteResult } from '../repositories/feed-store.js';
import { planEvent, type Ignored } from './plan.js';
import { windowStart } from './timelines.js';

/** What applying a batch did, for the consumer's metrics. */
export interface ApplySummary {
  /** One per event: its type and what happened to it. */
  outcomes: { type: string; outcome: WriteResult['outcome'] | Ignored }[];
  /** Home feeds a new post was written to (fan-out on write). */
  fannedOut: number;
  /** Posts of big accounts kept on their timeline only (merged at read time). */
  timelineOnly: number;
  /** Entries copied into a home feed by a follow. */
  backfilled: number;
  /** Entries removed (deletions, drafts, erased users). */
  removed: number;
}

export interface FeedUpdaterDeps {
  store: FeedStore;
  /** FEED_ENTRY_TTL_DAYS, in ms. */
  entryTtlMs: number;
  now?: () => Date;
}

/**
 * Keeps the feeds from the user events: plans each event (plan.ts) and has the store apply the
 * batch's writes in order, in one round trip. Safe to call again with the same events (at-least-once
 * delivery, a replay): every write is idempotent, and deletions, follows and erasures are safe
 * whatever order they meet the events they undo.
 */
export class FeedUpdater {
  private readonly now: () => Date;

  constructor(private readonly deps: FeedUpdaterDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async apply(events: readonly EventEnvelope[]): Promise<ApplySummary> {
    const now = this.now().getTime();
    const context = { now, entryTtlMs: this.deps.entryTtlMs };
    const plans = events.map((event) => planEvent(event, context));
    const writes = plans.flatMap((plan) => ('write' in plan ? [plan.write] : []));
    const results = await this.deps.store.apply(writes, { minScore: windowStart(now, this.deps.entryTtlMs) });
    const summary: ApplySummary = { outcomes: [], fannedOut: 0, timelineOnly: 0, backfilled: 0, removed: 0 };
    let next = 0;
    plans.forEach((plan, index) => {
      const type = events[index]!.type;
      if (!('write' in plan)) {
        summary.outcomes.push({ type, outcome: plan.ignored });
        return;
      }
      const result = results[next++]!;
      summary.outcomes.push({ type, outcome: result.outcome });
      summary.removed += result.removed;
      if (plan.write.op === 'add-post') {
        if (result.outcome === 'timeline-only') summary.timelineOnly += 1;
        else summary.fannedOut += result.homes;
      }
      if (plan.write.op === 'follow') summary.backfilled += result.homes;
    });
    return summary;
  }
}
