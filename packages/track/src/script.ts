/**
 * dist/track.min.js, for a script tag: reads its own tag's attributes and exposes
 * `window.galion = { track, pageView, flush }`.
 *
 *   <script defer src="https://galion.example/track.js" data-key="pk_..."></script>
 *
 * `data-key` the site's publishable key; `data-api` where Galion's API is (default: the origin of
 * the script's src); `data-dnt="true"` respects Do-Not-Track and Global Privacy Control;
 * `data-auto="false"` records no page views by itself (call `galion.pageView()`).
 */
import { createTracker, type Tracker } from './index.js';

declare global {
  interface Window {
    galion?: Pick<Tracker, 'track' | 'pageView' | 'flush'>;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
// Loaded twice on one page: the first tracker stays, so nothing is counted twice.
if (script && !window.galion) {
  const { key, api, dnt, auto } = script.dataset;
  const { track, pageView, flush } = createTracker({
    endpoint: `${(api ?? new URL(script.src).origin).replace(/\/+$/, '')}/api/v1/analytics/events`,
    key,
    respectDoNotTrack: dnt === 'true',
    autoPageViews: auto !== 'false',
  });
  window.galion = { track, pageView, flush };
}
