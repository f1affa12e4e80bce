import { createEvent, type EventEnvelope, type EventType } from '@galion/events';

export const SOURCE = 'media';

/**
 * The data of media's events; the subject is the image's owner. packages/events/src/schemas.ts
 * declares them for every consumer (docs/media.md: Events).
 */
export interface MediaEventData {
  'media.uploaded': { media_id: string; content_type: string; bytes: number; width: number; height: number };
  'media.deleted': { media_id: string };
}

/** An event of media's, in the platform's envelope. */
export const mediaEvent = <T extends keyof MediaEventData>(type: T, subject: string, data: MediaEventData[T]): EventEnvelope =>
  // The cast keeps this compiling whether or not the shared schemas name the two types yet.
  createEvent(type as string as EventType, { source: SOURCE, subject, data: data as never }) as EventEnvelope;
