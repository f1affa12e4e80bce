import { PublishUnavailable, uuidv7, type CoalescingPublisher } from '@galion/events';
import { AppError, forbidden, tooManyRequests, unauthorized, type KeyValueStore } from '@galion/kit';
import type { TrackingSite } from '../repositories/sites.js';
import type { VisitorSaltRepository } from '../repositories/visitor-salts.js';
import { TrackedEvent } from '../tracking-schemas.js';
import { isoDay } from '../time.js';
import type { SiteRegistry } from './sites.js';
import { referrerHost, timeProblem, urlParts, visitorOf, type AppEventRecord } from './tracking.js';
import type { UserAgentParser } from './user-agent.js';

/** Who sends a batch, as the route read it from the request. */
export interface TrackingCaller {
  /** The user of a verified access token. */
  userId?: string | undefined;
  /** The site of a publishable key, already admitted (`admitSite`). */
  site?: TrackingSite | undefined;
  ip: string;
  userAgent?: string | undefined;
}

export type EventOutcome =
  | { index: number; status: 'accepted'; id: string }
  | { index: number; status: 'refused'; error: string; message: string };

export interface CollectResult {
  accepted: number;
  refused: number;
  results: EventOutcome[];
}

export interface EventCollectorDeps {
  sites: SiteRegistry;
  salts: VisitorSaltRepository;
  publisher: CoalescingPublisher;
  /** Counters of the per-site and per-user limits (Redis, shared by replicas). */
  counters: KeyValueStore;
  userAgents: UserAgentParser;
  /** Events per minute a signed-in user may send. */
  userEventsPerMinute: number;
  /** Told how many events of each answered batch were accepted and refused (metrics). */
  onOutcome?: (accepted: number, refused: number) => void;
  now?: () => Date;
}

const MINUTE_MS = 60_000;

/** Largest app-events message: well under Kafka's default 1 MB message.max.bytes. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * The records of a batch as Kafka messages: one message per key (user or visitor), holding a JSON
 * array of that key's records, cut where it would pass MAX_MESSAGE_BYTES. A browser's batch is
 * one visitor's, so it is usually one message: the per-message cost of the client (encoding,
 * checksums, partitioning) is paid per batch instead of per event, and one key keeps one order.
 */
export const toMessages = (records: AppEventRecord[]): { key: string; value: string }[] => {
  const byKey = new Map<string, string[]>();
  for (const record of records) {
    const key = record.user_id ?? record.visitor;
    let values = byKey.get(key);
    if (!values) byKey.set(key, (values = []));
    values.push(JSON.stringify(record));
  }
  const messages: { key: string; value: string }[] = [];
  for (const [key, values] of byKey) {
    let chunk: string[] = [];
    let bytes = 2;
    for (const value of values) {
      const size = Buffer.byteLength(value) + 1;
      if (chunk.length > 0 && bytes + size > MAX_MESSAGE_BYTES) {
        messages.push({ key, value: `[${chunk.join(',')}]` });
        chunk = [];
        bytes = 2;
      }
      chunk.push(value);
      bytes += size;
    }
    messages.push({ key, value: `[${chunk.join(',')}]` });
  }
  return messages;
};

export const credentialsMissing = () =>
  unauthorized('credentials_missing', 'Send a bearer access token, or a site’s publishable key as the `key` query parameter.');
const keyInvalid = () => unauthorized('key_invalid', 'This key is unknown or has been revoked.');
const originNotAllowed = (origin: string) =>
  forbidden(`Pages of ${origin} may not send events with this key (it is not one of the site’s allowed origins).`, 'origin_not_allowed');
const busUnavailable = (cause: unknown) =>
  new AppError(503, 'event_bus_unavailable', 'Events cannot be accepted right now (the event bus is unreachable); nothing was stored. Try again shortly.', {
    cause,
    headers: { 'Retry-After': '2' },
  });

const describeIssues = (error: { issues: { path: PropertyKey[]; message: string }[] }): string =>
  error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.message}`)
    .join('; ');

/**
 * The tracking API's domain: checks each event on its own, derives what analytics needs (the
 * visitor hash, the client kind, the page's host and path) without keeping the address, enforces
 * the per-site and per-user limits, and publishes the accepted events to the app-events topic,
 * keyed by user or visitor. A batch is answered only once Kafka acknowledged it (acks=all).
 */
export class EventCollector {
  private salt: { day: string; value: Buffer } | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: EventCollectorDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The site of a publishable key, if its page's origin may use it (a request without Origin is not a browser's). */
  async admitSite(key: string, origin: string | undefined): Promise<TrackingSite> {
    const site = await this.deps.sites.resolve(key);
    if (!site) throw keyInvalid();
    if (origin !== undefined && !site.allowedOrigins.includes(origin)) throw originNotAllowed(origin);
    return site;
  }

  async collect(caller: TrackingCaller, events: Record<string, unknown>[]): Promise<CollectResult> {
    if (!caller.userId && !caller.site) throw credentialsMissing();
    const now = this.now();
    const received = now.toISOString();
    const site = caller.site?.id ?? '';
    const client = this.deps.userAgents.parse(caller.userAgent);
    const results: EventOutcome[] = [];
    const records: AppEventRecord[] = [];
    let salt: Buffer | undefined;
    for (const [index, raw] of events.entries()) {
      const parsed = TrackedEvent.safeParse(raw);
      if (!parsed.success) {
        results.push({ index, status: 'refused', error: 'invalid_event', message: describeIssues(parsed.error) });
        continue;
      }
      const event = parsed.data;
      const time = event.time ? Date.parse(event.time) : now.getTime();
      const problem = timeProblem(time, now.getTime());
      if (problem) {
        results.push({ index, status: 'refused', error: 'invalid_time', message: problem });
        continue;
      }
      if (!caller.userId && !event.anonymous_id) salt ??= await this.daySalt(now);
      const { host, path } = urlParts(event.url);
      const id = event.id ?? uuidv7(time);
      records.push({
        id,
        time: new Date(time).toISOString(),
        name: event.name,
        site,
        user_id: caller.userId ?? null,
        visitor: visitorOf({
          userId: caller.userId,
          site,
          anonymousId: event.anonymous_id,
          salt: salt ?? Buffer.alloc(0),
          ip: caller.ip,
          userAgent: caller.userAgent ?? '',
        }),
        session_id: event.session_id ?? null,
        host,
        path,
        referrer_host: referrerHost(event.referrer, host),
        browser: client.browser,
        os: client.os,
        device: client.device,
        properties: event.properties ?? {},
        received_at: received,
      });
      results.push({ index, status: 'accepted', id });
    }
    if (records.length > 0) {
      if (caller.site) await this.count(`site:${caller.site.id}`, caller.site.eventsPerMinute, records.length, now);
      if (caller.userId) await this.count(`user:${caller.userId}`, this.deps.userEventsPerMinute, records.length, now);
      try {
        await this.deps.publisher.publish(toMessages(records));
      } catch (error) {
        if (error instanceof PublishUnavailable) throw busUnavailable(error);
        throw error;
      }
    }
    const refused = events.length - records.length;
    this.deps.onOutcome?.(records.length, refused);
    return { accepted: records.length, refused, results };
  }

  /** Counts events against a per-minute limit (a fixed window per UTC minute); the whole batch is refused past it. */
  private async count(scope: string, limit: number, events: number, now: Date): Promise<void> {
    const window = Math.floor(now.getTime() / MINUTE_MS);
    const total = await this.deps.counters.increment(`track:${scope}:${window}`, 2 * MINUTE_MS, events);
    if (total > limit) {
      throw tooManyRequests(((window + 1) * MINUTE_MS - now.getTime()) / 1000, `More than ${limit} events per minute; try again in a moment.`);
    }
  }

  private async daySalt(now: Date): Promise<Buffer> {
    const day = isoDay(now);
    if (this.salt?.day !== day) this.salt = { day, value: await this.deps.salts.saltOf(day) };
    return this.salt.value;
  }
}
