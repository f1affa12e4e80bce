import type { Knex, Logger } from '@galion/kit';
import type { MediaRepository } from '../repositories/media.js';
import type { OwnerRepository } from '../repositories/owners.js';
import type { ObjectStore } from '../storage/index.js';
import { KEY_PREFIX, objectKeys, parseObjectKey } from './keys.js';
import type { MediaMetrics } from './metrics.js';

/** What one sweep removed. */
export interface SweepReport {
  /** Uploads still pending past the grace period: their objects and their row. */
  pending: number;
  /** Objects under the prefix whose image has no row. */
  orphans: number;
}

export interface MediaSweeperDeps {
  knex: Knex;
  media: MediaRepository;
  owners: OwnerRepository;
  store: ObjectStore;
  /** Age past which a pending upload is abandoned. */
  pendingGraceMs: number;
  /** Wait between runs. */
  intervalMs: number;
  logger: Logger;
  metrics: MediaMetrics;
}

const PENDING_BATCH = 100;

/**
 * Repairs what a crash or a failing store left behind (docs/media.md: Consistency): uploads still
 * `pending` past MEDIA_PENDING_GRACE_SECONDS lose their objects, then their row and their room in
 * the quota; objects under `media/` whose image has no row are deleted. Runs at start and every
 * MEDIA_SWEEP_INTERVAL_SECONDS. Every step can be repeated and replicas may sweep at once: an
 * object is stored only after its row is committed, so an object with no row never gets one.
 */
export class MediaSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepReport> | undefined;
  private stopped = false;

  constructor(private readonly deps: MediaSweeperDeps) {}

  /** Sweeps now, in the background, and every interval after. */
  start(): void {
    const run = () => {
      void this.runOnce().catch(() => undefined);
    };
    run();
    this.timer = setInterval(run, this.deps.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep; a call while one runs shares it. Rejects when the database or the store failed (what was done stays done). */
  runOnce(): Promise<SweepReport> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<SweepReport> {
    const { metrics, logger } = this.deps;
    try {
      const pending = await this.sweepAbandoned();
      const orphans = this.stopped ? 0 : await this.sweepOrphans();
      metrics.sweeps.inc({ result: 'ok' });
      metrics.lastSweep.setToCurrentTime();
      if (pending + orphans > 0) logger.info({ pending, orphans }, 'the sweep removed abandoned uploads and orphan objects');
      return { pending, orphans };
    } catch (error) {
      metrics.sweeps.inc({ result: 'failed' });
      logger.warn({ err: error }, 'the media sweep failed; it runs again at its next interval');
      throw error;
    }
  }

  private async sweepAbandoned(): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.deps.media.abandoned(this.deps.pendingGraceMs, PENDING_BATCH);
      let batchRemoved = 0;
      for (const media of batch) {
        // Objects first: if the store fails, the row stays and the next sweep tries again.
        await this.deps.store.delete(objectKeys(media.id));
        const gone = await this.deps.knex.transaction(async (trx) => {
          await this.deps.owners.lock(media.ownerId, trx);
          const row = await this.deps.media.delete(media.id, trx, 'pending');
          if (row) await this.deps.owners.release(row.ownerId, { files: 1, bytes: row.storedBytes }, trx);
          return row !== undefined;
        });
        if (gone) batchRemoved += 1;
      }
      this.deps.metrics.swept.inc({ kind: 'pending' }, batchRemoved);
      removed += batchRemoved;
      if (batch.length < PENDING_BATCH || this.stopped) return removed;
    }
  }

  private async sweepOrphans(): Promise<number> {
    let removed = 0;
    for await (const page of this.deps.store.list(KEY_PREFIX)) {
      const parsed = page.flatMap((object) => {
        const key = parseObjectKey(object.key);
        return key ? [{ key: object.key, id: key.id }] : [];
      });
      const known = await this.deps.media.existing([...new Set(parsed.map((object) => object.id))]);
      const orphans = parsed.filter((object) => !known.has(object.id)).map((object) => object.key);
      if (orphans.length > 0) {
        await this.deps.store.delete(orphans);
        this.deps.metrics.swept.inc({ kind: 'orphan' }, orphans.length);
        removed += orphans.length;
      }
      if (this.stopped) break;
    }
    return removed;
  }
}
