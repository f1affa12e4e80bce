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
  followers_count: number;
  following_count: number;
}

/** `GET /api/v1/users/{id}` of another user's public profile (the whole Profile for oneself and admins). */
export interface PublicProfile {
  id: string;
  name: string;
  bio: string | null;
  avatar_url: string | null;
  followers_count: number;
  following_count: number;
}

/** The caller's follow of a user (`PUT`/`GET /api/v1/users/{id}/follow`). */
export interface Follow {
  follower_id: string;
  followee_id: string;
  followed_at: string;
}

/** One entry of `/followers` or `/following`: name and avatar are null for a profile the caller may not see. */
export interface FollowEntry {
  id: string;
  name: string | null;
  avatar_url: string | null;
  followed_at: string;
}

export interface FollowList {
  items: FollowEntry[];
  next_cursor: string | null;
}

interface PostFields {
  id: string;
  author_id: string;
  title: string;
  tags: string[];
  published: boolean;
  /** When it was first published (kept when it goes back to draft); null for a draft never published. */
  published_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A whole post (`GET /api/v1/posts/{id}`). */
export interface Post extends PostFields {
  body: string;
}

/** A post in a list: the first 280 characters of the body in place of it. */
export interface PostSummary extends PostFields {
  excerpt: string;
}

export interface PostList {
  items: PostSummary[];
  next_cursor: string | null;
}

/** A search result: best match first. */
export interface SearchHit extends PostSummary {
  rank: number;
}

export interface SearchResults {
  items: SearchHit[];
  next_cursor: string | null;
}

/** The body of `POST /api/v1/posts`; `PATCH` takes any of its fields. */
export interface PostInput {
  title: string;
  body: string;
  tags: string[];
  published: boolean;
}

export interface Comment {
  id: string;
  post_id: string;
  author_id: string;
  body: string;
  created_at: string;
  updated_at: string;
}

export interface CommentList {
  items: Comment[];
  next_cursor: string | null;
}

/** One entry of a feed (`GET /api/v1/feed/home`, `/global`): a post published, or a comment on a post. */
export interface FeedEntry {
  id: string;
  kind: 'post' | 'comment';
  /** The post's author, or the commenter. */
  actor_id: string;
  post_id: string;
  /** The post's title when it was published (posts only). */
  title: string | null;
  tags: string[];
  comment_id: string | null;
  /** The commented post's author (comments only). */
  post_author_id: string | null;
  time: string;
}

export interface FeedPage {
  items: FeedEntry[];
  next_cursor: string | null;
}

/** A stored variant of an image: the original, or a WebP thumbnail. */
export interface MediaVariant {
  content_type: string;
  width: number;
  height: number;
  bytes: number;
}

/** One of my images (`POST /api/v1/media`, `GET /api/v1/media/{id}`); docs/media.md. */
export interface Media {
  id: string;
  owner_id: string;
  /** The original's type, told by its bytes. */
  content_type: string;
  width: number;
  height: number;
  /** The stored original's size. */
  bytes: number;
  /** Everything stored for it, thumbnails included: what the quota counts. */
  stored_bytes: number;
  sizes: Record<MediaSize, MediaVariant>;
  created_at: string;
}

/** The original, or the thumbnails of at most 128, 512 and 1,024 pixels on their longest side. */
export type MediaSize = 'original' | 'small' | 'medium' | 'large';

export interface MediaList {
  items: Media[];
  next_cursor: string | null;
}

/** `GET /api/v1/media/stats`: what I keep and may keep (bytes count the thumbnails). */
export interface MediaStats {
  files: number;
  bytes: number;
  quota: { files: number; bytes: number };
}

/** `GET`/`PUT /api/v1/media/avatar`: my avatar, and the public path that serves it. */
export interface Avatar {
  image_id: string;
  url: string;
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
