import type { BreakerConfig } from './config.js';

export type BreakerState = 'closed' | 'half_open' | 'open';

/** The `gateway_circuit_breaker_state` gauge value of each state. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** One admitted call; the first of success/failure/release counts, later calls do nothing. */
export interface Permit {
  success(): void;
  failure(): void;
  /** The call ended without telling anything about the upstream (e.g. the client went away). */
  release(): void;
}

const BUCKETS = 10;

interface Bucket {
  start: number;
  successes: number;
  failures: number;
}

/**
 * A circuit breaker for one upstream. Closed, it counts outcomes in a rolling window; when at
 * least `minRequests` calls in the window failed at `failureRatio` or more, it opens and rejects
 * every call for `cooldownMs`. Then it half-opens and admits one probe: success closes it,
 * failure opens it again for another cool-down.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private buckets: Bucket[] = [];
  private openedAt = 0;
  private probeStartedAt: number | undefined;
  private readonly bucketMs: number;

  constructor(
    readonly name: string,
    private readonly options: Omit<BreakerConfig, 'enabled'>,
    private readonly hooks: { onStateChange?: (state: BreakerState, previous: BreakerState) => void } = {},
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.floor(options.windowMs / BUCKETS));
  }

  /** The state now; an open breaker whose cool-down has passed reads as half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) this.transition('half_open');
    return this.current;
  }

  /** Seconds until an open breaker admits a probe (at least 1). */
  retryAfterSeconds(): number {
    if (this.current !== 'open') return 1;
    return Math.max(1, Math.ceil((this.options.cooldownMs - (this.now() - this.openedAt)) / 1000));
  }

  /** Admits a call, or returns undefined when the breaker rejects it. */
  acquire(): Permit | undefined {
    const state = this.state;
    if (state === 'open') return undefined;
    if (state === 'half_open') {
      // One probe at a time; a probe that never reported back frees its slot after a cool-down.
      if (this.probeStartedAt !== undefined && this.now() - this.probeStartedAt < this.options.cooldownMs) return undefined;
      this.probeStartedAt = this.now();
      return this.permit(true);
    }
    return this.permit(false);
  }

  private permit(probe: boolean): Permit {
    let done = false;
    const settle = (outcome: 'success' | 'failure' | 'release') => {
      if (done) return;
      done = true;
      this.record(outcome, probe);
    };
    return { success: () => settle('success'), failure: () => settle('failure'), release: () => settle('release') };
  }

  private record(outcome: 'success' | 'failure' | 'release', probe: boolean): void {
    if (probe) {
      this.probeStartedAt = undefined;
      if (this.current !== 'half_open') return;
      if (outcome === 'success') {
        this.buckets = [];
        this.transition('closed');
      } else if (outcome === 'failure') {
        this.trip();
      }
      return;
    }
    if (outcome === 'release' || this.current !== 'closed') return;
    const bucket = this.bucket();
    if (outcome === 'success') bucket.successes += 1;
    else bucket.failures += 1;
    let successes = 0;
    let failures = 0;
    for (const b of this.buckets) {
      successes += b.successes;
      failures += b.failures;
    }
    const total = successes + failures;
    if (total >= this.options.minRequests && failures / total >= this.options.failureRatio) this.trip();
  }

  private bucket(): Bucket {
    const now = this.now();
    const start = now - (now % this.bucketMs);
    this.buckets = this.buckets.filter((b) => b.start > now - this.options.windowMs);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.start !== start) {
      last = { start, successes: 0, failures: 0 };
      this.buckets.push(last);
    }
    return last;
  }

  private trip(): void {
    this.openedAt = this.now();
    this.buckets = [];
    this.transition('open');
  }

  private transition(next: BreakerState): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.hooks.onStateChange?.(next, previous);
  }
}
