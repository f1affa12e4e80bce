import type { KeyValueStore } from '@galion/kit';

/** What a counter says about one request. */
export interface Verdict {
  allowed: boolean;
  /** Requests left in the window after this one, as far as this replica knows (exact with one replica). */
  remaining: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
}

export interface LeasedCounterOptions {
  limit: number;
  windowMs: number;
  /** Put before each key in the store. */
  prefix: string;
  now?: () => number;
  /** A lease takes this share of what is left in the window (1/16)… */
  leaseShare?: number;
  /** …and at most this many requests. */
  maxLease?: number;
  /** Unused quota of a key not seen for this long goes back to the shared count, for the other replicas. */
  idleReturnMs?: number;
  /** A key found exhausted is asked about again after this long (quota given back elsewhere may have freed some). */
  recheckMs?: number;
}

interface Lease {
  /** When the window ends (ms since the epoch). */
  resetAt: number;
  /** Requests granted to this replica and not used yet. */
  left: number;
  /** The shared count as of this replica's last lease, at most the limit: what every replica has been granted. */
  counted: number;
  /** Nothing was left in the window at the last ask; asked again at `recheckAt`. */
  exhausted: boolean;
  recheckAt: number;
  lastUsed: number;
  /** A lease under way: requests that need one wait for it rather than asking too. */
  pending: Promise<void> | undefined;
}

/**
 * Fixed-window request counts shared by every replica through the store, without a round trip per
 * request: a replica takes a lease of quota from the shared count (an INCRBY), serves from it in
 * memory, and takes the next when it runs out. A lease is a share of what is left, so as the
 * window fills leases shrink to one request and the last requests are counted one by one. The
 * store's count only ever holds quota granted, so replicas together never let through more than
 * the limit; quota a replica holds unused goes back to the count once the key is idle, and a
 * replica turned away re-asks after `recheckMs`. With one replica every answer is exact.
 */
export class LeasedCounter {
  private readonly leases = new Map<string, Lease>();
  private readonly now: () => number;
  private readonly leaseShare: number;
  private readonly maxLease: number;
  private readonly idleReturnMs: number;
  private readonly recheckMs: number;

  constructor(
    private readonly store: KeyValueStore,
    private readonly options: LeasedCounterOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.leaseShare = options.leaseShare ?? 16;
    this.maxLease = options.maxLease ?? 64;
    this.idleReturnMs = options.idleReturnMs ?? 1_000;
    this.recheckMs = options.recheckMs ?? 1_000;
  }

  /** Counts one request of `key`: at once from a lease, or after asking the store for one (which may fail). */
  take(key: string): Verdict | Promise<Verdict> {
    return this.count(key, false);
  }

  /** `afterLease`: this request has just waited for a lease, so a refusal stands without asking again. */
  private count(key: string, afterLease: boolean): Verdict | Promise<Verdict> {
    const now = this.now();
    let lease = this.leases.get(key);
    if (lease && lease.resetAt <= now) {
      this.leases.delete(key);
      lease = undefined;
    }
    if (lease) {
      if (lease.left > 0) {
        lease.left -= 1;
        lease.lastUsed = now;
        return { allowed: true, remaining: this.remaining(lease), resetMs: lease.resetAt - now };
      }
      if (lease.pending) return lease.pending.then(() => this.count(key, true));
      if (lease.exhausted && (afterLease || now < lease.recheckAt)) return { allowed: false, remaining: 0, resetMs: lease.resetAt - now };
    }
    return this.lease(key, lease).then(() => this.count(key, true));
  }

  /** Entries of windows that are over are dropped; quota of idle keys (or all, at shutdown) goes back. Run it about once a second. */
  async sweep(returnAll = false): Promise<void> {
    const now = this.now();
    const returns: Promise<void>[] = [];
    for (const [key, lease] of this.leases) {
      if (lease.resetAt <= now) this.leases.delete(key);
      else if (lease.left > 0 && !lease.pending && (returnAll || now - lease.lastUsed >= this.idleReturnMs)) {
        returns.push(this.giveBack(key, lease, lease.left));
        lease.counted -= lease.left;
        lease.left = 0;
      }
    }
    await Promise.all(returns);
  }

  /** How many keys are held in memory. */
  get size(): number {
    return this.leases.size;
  }

  private remaining(lease: Lease): number {
    return Math.max(0, this.options.limit - (lease.counted - lease.left));
  }

  private lease(key: string, known: Lease | undefined): Promise<void> {
    const { limit, windowMs } = this.options;
    const now = this.now();
    const lease: Lease = known ?? { resetAt: now + windowMs, left: 0, counted: 0, exhausted: false, recheckAt: 0, lastUsed: now, pending: undefined };
    if (!known) this.leases.set(key, lease);
    const size = Math.max(1, Math.min(this.maxLease, Math.floor((limit - lease.counted) / this.leaseShare)));
    const pending = this.store.incrementInWindow(this.options.prefix + key, windowMs, size).then(
      ({ count, ttlMs }) => {
        const at = this.now();
        const granted = Math.max(0, Math.min(size, limit - (count - size)));
        lease.resetAt = at + (ttlMs > 0 ? ttlMs : windowMs);
        lease.left += granted;
        lease.counted = Math.min(limit, count - (size - granted));
        lease.exhausted = granted === 0;
        lease.recheckAt = at + this.recheckMs;
        lease.pending = undefined;
        if (!this.leases.has(key)) this.leases.set(key, lease);
        // What was asked beyond the limit was not granted: taken off again, so the count stays the quota granted.
        if (granted < size) void this.giveBack(key, lease, size - granted).catch(() => undefined);
      },
      (error: unknown) => {
        lease.pending = undefined;
        if (!known && this.leases.get(key) === lease) this.leases.delete(key);
        throw error;
      },
    );
    lease.pending = pending;
    return pending;
  }

  /**
   * Returns unused quota to the shared count, unless the window is about to end: a decrement
   * landing after the key expired would start the next window below zero.
   */
  private async giveBack(key: string, lease: Lease, amount: number): Promise<void> {
    if (lease.resetAt - this.now() < Math.min(1_000, this.options.windowMs / 4)) return;
    await this.store.incrementInWindow(this.options.prefix + key, this.options.windowMs, -amount);
  }
}
