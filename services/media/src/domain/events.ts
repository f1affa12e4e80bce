import { createEvent, type EventData, type EventEnvelope } from '@galion/events';

export const SOURCE = 'media';

/** The types media writes; packages/events/src/schemas.ts declares their data for every consumer (docs/media.md: Events). */
export type MediaEventType = 'media.uploaded' | 'media.deleted' | 'media.avatar_changed';

/** An event of media's, in the platform's envelope; the subject is the image's owner. */
export const mediaEvent = <T extends MediaEventType>(type: T, subject: string, data: EventData<T>): EventEnvelope<T> =>
  createEvent(type, { source: SOURCE, subject, data });
