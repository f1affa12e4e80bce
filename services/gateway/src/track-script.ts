/**
 * The tracking script at /track.js: @galion/track's dist/track.min.js, for the script tag of any
 * site that sends its page views and events to Galion (`<script defer src="https://<galion>/track.js"
 * data-key="pk_…">`). It is read once at startup and served from memory, gzipped for browsers that
 * take it, cached an hour (the name stays the same across releases, so it cannot be cached for good)
 * and revalidated by its ETag. The kit's security headers make every answer same-origin only
 * (`Cross-Origin-Resource-Policy: same-origin`); this one is meant for other sites, so it says
 * `cross-origin`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';

/** Nothing for a script to load or embed: the answer is code, never a document. */
export const TRACK_SCRIPT_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * dist/track.min.js of the installed @galion/track: beside the package's entry point (dist/index.js;
 * in the tests, which resolve workspace packages to their sources, beside src/).
 */
export const trackScriptFile = (): string => join(dirname(require.resolve('@galion/track')), '..', 'dist', 'track.min.js');

export interface TrackScript {
  /** The script's strong ETag (of its uncompressed bytes; the gzipped answer's carries `-gz`). */
  etag: string;
  /** Answers GET and HEAD of /track.js: the script, or 304 when If-None-Match names this version. */
  send(req: Request, res: Response): void;
}

export const createTrackScript = (file: string = trackScriptFile()): TrackScript => {
  let script: Buffer;
  try {
    script = readFileSync(file);
  } catch (error) {
    throw new Error(`the tracking script ${file} cannot be read: build @galion/track (pnpm --filter @galion/track build)`, {
      cause: error,
    });
  }
  const hash = createHash('sha256').update(script).digest('base64url').slice(0, 32);
  const identity = { body: script, etag: `"${hash}"` };
  const gzipped = { body: gzipSync(script, { level: 9 }), etag: `"${hash}-gz"` };
  return {
    etag: identity.etag,
    send: (req, res) => {
      const gzip = req.acceptsEncodings('gzip', 'identity') === 'gzip';
      const answer = gzip ? gzipped : identity;
      res.set({
        'Content-Type': 'application/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=3600',
        ETag: answer.etag,
        Vary: 'Accept-Encoding',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'Content-Security-Policy': TRACK_SCRIPT_CSP,
      });
      // req.fresh compares If-None-Match with the ETag just set.
      if (req.fresh) {
        res.status(304).end();
        return;
      }
      if (gzip) res.set('Content-Encoding', 'gzip');
      res
        .status(200)
        .set('Content-Length', String(answer.body.length))
        .end(req.method === 'HEAD' ? undefined : answer.body);
    },
  };
};
