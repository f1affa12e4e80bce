import { Counter, Gauge, Histogram, type Registry } from '@galion/kit';

/** The media service's own metrics (docs/media.md: Metrics). */
export class MediaMetrics {
  readonly uploads: Counter<'result'>;
  readonly storedBytes: Counter;
  readonly processing: Histogram;
  readonly uploadsInFlight: Gauge;
  readonly uploadsInFlightLimit: Gauge;
  readonly objectDeleteFailures: Counter;
  readonly swept: Counter<'kind'>;
  readonly sweeps: Counter<'result'>;
  readonly lastSweep: Gauge;

  constructor(registry: Registry, maxUploadsInFlight: number) {
    const registers = [registry];
    this.uploads = new Counter({
      name: 'media_uploads_total',
      help: 'Uploads answered, by result: stored, or the error code of the refusal (payload_too_large, unsupported_image, image_too_large, image_unreadable, quota_exceeded, dependency_unavailable, …).',
      labelNames: ['result'] as const,
      registers,
    });
    this.storedBytes = new Counter({
      name: 'media_stored_bytes_total',
      help: 'Bytes stored by uploads: each image re-encoded and its thumbnails.',
      registers,
    });
    this.processing = new Histogram({
      name: 'media_processing_duration_seconds',
      help: 'Time to check, decode, re-encode and make the thumbnails of one image.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.uploadsInFlight = new Gauge({
      name: 'media_uploads_in_flight',
      help: 'Uploads being received or processed now (at most MEDIA_MAX_UPLOADS_IN_FLIGHT).',
      registers,
    });
    this.uploadsInFlightLimit = new Gauge({
      name: 'media_uploads_in_flight_limit',
      help: 'MEDIA_MAX_UPLOADS_IN_FLIGHT: past it, uploads are refused with 503 before their body is read.',
      registers,
    });
    this.uploadsInFlightLimit.set(maxUploadsInFlight);
    this.objectDeleteFailures = new Counter({
      name: 'media_object_delete_failures_total',
      help: 'Objects that could not be deleted when their image was (the store failed); the sweep removes them later.',
      registers,
    });
    this.swept = new Counter({
      name: 'media_sweep_removed_total',
      help: 'What the sweep removed: abandoned pending uploads (kind="pending") and objects no row knows (kind="orphan").',
      labelNames: ['kind'] as const,
      registers,
    });
    this.sweeps = new Counter({
      name: 'media_sweep_runs_total',
      help: 'Sweep runs, by result (ok, failed).',
      labelNames: ['result'] as const,
      registers,
    });
    this.lastSweep = new Gauge({
      name: 'media_sweep_last_success_timestamp_seconds',
      help: 'When the last sweep that finished without error ended (Unix time).',
      registers,
    });
    // The series a dashboard and an alert's ratio read exist from the start, at 0, not from their first event.
    for (const result of ['stored', 'dependency_unavailable']) this.uploads.inc({ result }, 0);
    for (const kind of ['pending', 'orphan']) this.swept.inc({ kind }, 0);
    for (const result of ['ok', 'failed']) this.sweeps.inc({ result }, 0);
  }
}
