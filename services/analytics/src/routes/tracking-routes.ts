import type { ApiRouter } from '@galion/kit';
import type { AccessClaims } from '@galion/tokens';
import type { EventCollector } from '../domain/collector.js';
import { MAX_BATCH_EVENTS, TRACK_BODY_LIMIT } from '../domain/tracking.js';
import { TrackBatch, TrackQuery, TrackResult } from '../tracking-schemas.js';
import { BASE } from './analytics-routes.js';

export interface TrackingRouteDeps {
  collector: EventCollector;
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before sending again.', schema: { type: 'integer' as const } } };

export const registerTrackingRoutes = (api: ApiRouter, { collector }: TrackingRouteDeps): void => {
  api.route({
    method: 'post',
    path: `${BASE}/events`,
    summary: `Send application events: a batch of 1 to ${MAX_BATCH_EVENTS}, each accepted or refused on its own`,
    description: [
      'With a user’s bearer token the events are that user’s; with a site’s publishable `key` (query parameter) they are',
      'anonymous web traffic, and a browser’s `Origin` must be one of the site’s allowed origins (the answer then carries',
      '`Access-Control-Allow-Origin`). The body may be sent as `text/plain` so browsers need no CORS preflight',
      '(`navigator.sendBeacon`). The answer comes once Kafka has acknowledged every accepted event; give each event an',
      '`id` and a `time` so a retried batch is stored once. No IP address is stored.',
    ].join(' '),
    tags: ['analytics'],
    access: { public: 'ip', token: 'optional' },
    query: TrackQuery,
    body: TrackBatch,
    bodyOptions: { limit: TRACK_BODY_LIMIT, types: ['application/json', 'text/plain'] },
    headers: { Origin: 'The page’s origin, sent by browsers; checked against the site’s allowed origins.' },
    responses: {
      202: {
        description: 'Every event’s outcome, in order: accepted (published) or refused with the reason (invalid_event, invalid_time).',
        schema: TrackResult,
        headers: {
          'Access-Control-Allow-Origin': { description: 'The page’s origin, on every answer to a request with a key (refusals too, so the page’s script can read them).' },
        },
      },
      400: 'The batch is not valid (validation_failed: not an object, no events, more than 500, an event that is not an object; malformed_json).',
      401: 'Neither a bearer token nor a key (credentials_missing); an unknown or revoked key (key_invalid); an invalid, expired or revoked token (token_invalid, token_revoked).',
      403: 'The page’s origin is not one of the site’s allowed origins (origin_not_allowed).',
      429: { description: 'More events per minute than the site’s (or the user’s) limit (rate_limited); nothing of the batch was stored.', headers: RETRY_AFTER },
      503: {
        description: 'Kafka did not acknowledge the batch in time (event_bus_unavailable), or the service is at capacity or a store is unreachable (overloaded, dependency_unavailable); resend later.',
        headers: RETRY_AFTER,
      },
    },
    handler: async ({ query, body, req, res }) => {
      const origin = req.get('origin');
      if (query.key && origin) {
        // Readable by any page, refusals included: the answer holds nothing but outcomes, and a
        // script that can read a 403 or 401 drops the batch instead of retrying it. The allowed
        // origins are enforced by refusing, not by hiding the refusal.
        res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After, X-Request-ID' });
        res.vary('Origin');
      }
      const site = query.key ? await collector.admitSite(query.key, origin) : undefined;
      const userId = (res.locals.auth as AccessClaims | undefined)?.sub;
      const result = await collector.collect({ userId, site, ip: req.ip ?? '', userAgent: req.get('user-agent') }, body.events);
      return { status: 202, body: result };
    },
  });
};
