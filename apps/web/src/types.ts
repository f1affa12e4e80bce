export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  email_verified: boolean;
  created_at: string;
}

export interface Profile {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  active: boolean;
  bio: string | null;
  avatar_url: string | null;
  locale: string | null;
  timezone: string | null;
  preferences: Record<string, unknown>;
  is_public: boolean;
  created_at: string;
  updated_at: string;
}

/** A site that sends app events with a publishable key (`GET /api/v1/analytics/sites`). */
export interface Site {
  id: string;
  name: string;
  /** `pk_` and 24 base62 characters: public, it goes in the site's pages. */
  key: string;
  allowed_origins: string[];
  events_per_minute: number;
  created_at: string;
  /** When the key was revoked; a revoked key is refused (401 `key_invalid`). */
  revoked_at: string | null;
}

export interface SiteList {
  sites: Site[];
}

/** The body of `POST /api/v1/analytics/sites`. */
export interface NewSite {
  name: string;
  allowed_origins: string[];
  events_per_minute: number;
}

/** A range an app-event query answered for. */
interface AppRange {
  from: string;
  to: string;
}

export interface AppEventName {
  name: string;
  events: number;
  users: number;
  visitors: number;
}

/** `GET /api/v1/analytics/app/names`: most events first. */
export interface AppNames extends AppRange {
  names: AppEventName[];
  next_cursor: string | null;
}

/** `GET /api/v1/analytics/app/uniques`: every event, or those of `name`. */
export interface AppUniques extends AppRange {
  name: string | null;
  events: number;
  users: number;
  visitors: number;
}

/** `GET /api/v1/analytics/app/timeseries`. */
export interface AppTimeseries extends AppRange {
  interval: 'hour' | 'day';
  name: string | null;
  buckets: { start: string; events: number }[];
}

export interface AppPage {
  path: string;
  views: number;
  visitors: number;
}

/** `GET /api/v1/analytics/app/pages`: the paths of `page_view` events. */
export interface AppPages extends AppRange {
  pages: AppPage[];
  next_cursor: string | null;
}

export interface AppReferrer {
  /** The referrer's host. */
  referrer: string;
  visits: number;
  visitors: number;
}

/** `GET /api/v1/analytics/app/referrers`. */
export interface AppReferrers extends AppRange {
  referrers: AppReferrer[];
  next_cursor: string | null;
}

export interface AppBreakdownValue {
  /** The value as text; null for events without the property (or with null). */
  value: string | null;
  events: number;
  visitors: number;
}

/** `GET /api/v1/analytics/app/breakdown`: the values of one property of one event. */
export interface AppBreakdown extends AppRange {
  name: string;
  property: string;
  values: AppBreakdownValue[];
  next_cursor: string | null;
}

export interface AppFunnelStep {
  name: string;
  visitors: number;
  /** Of the first step's visitors, 0..1. */
  conversion: number;
}

/** `GET /api/v1/analytics/app/funnel`. */
export interface AppFunnel extends AppRange {
  steps: AppFunnelStep[];
}
