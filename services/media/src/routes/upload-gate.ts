import { AppError, type Gauge } from '@galion/kit';

export const overloaded = () =>
  new AppError(503, 'overloaded', 'The service is taking as many uploads as it can; try again in a moment.', {
    headers: { 'Retry-After': '1', Connection: 'close' },
  });

/**
 * Bounds the uploads one process takes at once (MEDIA_MAX_UPLOADS_IN_FLIGHT): each holds its image
 * and its re-encoded original in temporary files, and libvips's buffers while it is processed, so
 * past the bound an upload is refused at once, before its body is read, rather than queued.
 */
export class UploadGate {
  private inFlight = 0;

  constructor(
    private readonly max: number,
    private readonly gauge?: Gauge,
  ) {}

  /** A slot, released by the function returned; undefined when every slot is taken. */
  enter(): (() => void) | undefined {
    if (this.inFlight >= this.max) return undefined;
    this.inFlight += 1;
    this.gauge?.set(this.inFlight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.gauge?.set(this.inFlight);
    };
  }
}
