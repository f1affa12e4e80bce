/**
 * The API docs page at /docs: Swagger UI (the swagger-ui-dist package) rendering the merged
 * OpenAPI document, with "Try it out" sending requests through this gateway and an Authorize
 * dialog for a bearer token. Everything it loads comes from this gateway (clusters often have no
 * internet): the renderer's files and the page's own script and stylesheet are read once at
 * startup and served from memory under /docs/assets/, each under a name carrying a hash of its
 * content, so they are cached for good and a new version is a new name. No other file of the
 * package can be reached.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { AppError } from '@galion/kit';
import type { RequestHandler, Response } from 'express';

const OPENAPI_URL = '/api/v1/openapi.json';
const ASSETS = '/docs/assets/';

/**
 * Scripts and styles from this origin only (no inline code, no eval: the bundle needs neither),
 * requests to this origin only (try-it), images from here or data: URLs (the stylesheet's icons).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Starts Swagger UI on the merged document. Its ways of loading other content are off: the
 * validator badge (an image from validator.swagger.io) and ?url=/?configUrl= in the page's address
 * (a link could otherwise show another document on this origin). The pasted token is kept in the
 * page's memory only, as the web app keeps its tokens: a reload forgets it. No deep links: they
 * put a link inside each operation's toggle button, which screen readers cannot reach.
 */
const INITIALIZER = `(function () {
  'use strict';
  var unavailable = document.getElementById('unavailable');
  var ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_URL)},
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    queryConfigEnabled: false,
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    onComplete: function () {
      var services = ui.specSelectors.specJson().get('x-galion-services');
      var missing = services ? services.filter(function (state) { return state !== 'included'; }).keySeq().toArray() : [];
      if (missing.length === 0) return;
      unavailable.textContent = 'Not available right now: ' + missing.join(', ') + '. Their routes are missing below.';
      unavailable.hidden = false;
    }
  });
})();
`;

/**
 * Galion's additions to Swagger UI's stylesheet: its colours darkened to a contrast of 4.5:1 or
 * more (WCAG AA) with their hues kept, the curl command wrapped instead of scrolled sideways (a
 * region only a mouse could scroll; !important beats the highlighter's inline style), and the
 * notice of services missing from the document.
 */
const STYLESHEET = `.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1565c0; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #137a4b; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #a85b00; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0f7a66; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #c62828; }
.swagger-ui .info .title small { background-color: #5b616e; }
.swagger-ui .info .title small.version-stamp { background-color: #4d7a00; }
.swagger-ui .info a { color: #1a5fb4; }
.swagger-ui .btn.authorize, .swagger-ui .btn.authorize svg { border-color: #137a4b; color: #137a4b; }
.swagger-ui .btn.cancel { border-color: #c62828; color: #c62828; }
.swagger-ui .btn.execute { background-color: #1a5fb4; border-color: #1a5fb4; }
.swagger-ui .download-contents { background: #5b616e; }
.swagger-ui .json-schema-2020-12-expand-deep-button { color: #595959; }
.swagger-ui .curl code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
#unavailable { box-sizing: border-box; max-width: 1460px; margin: 20px auto 0; padding: 10px 20px; border-left: 4px solid #c62828; background: #fdecea; color: #3b3b3b; font: 14px sans-serif; }
`;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  contentType: string;
}

/** `swagger-ui.css` → `swagger-ui.<hash of the content>.css`. */
const versionedName = (name: string, body: Buffer): string => {
  const ext = extname(name);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return `${name.slice(0, -ext.length)}.${hash}${ext}`;
};

export interface DocsSite {
  /** Answers with the page: HTML under DOCS_CSP, revalidated on every load (its asset names change). */
  sendPage(res: Response): void;
  /** Serves GET and HEAD of /docs/assets/<versioned name> (404 for any other name); passes other requests on. */
  assets: RequestHandler;
}

/** Reads the renderer's files from the installed swagger-ui-dist package (once, at startup). */
export const createDocsSite = (): DocsSite => {
  const packageDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const files = new Map<string, Asset>();
  const add = (name: string, body: Buffer): string => {
    const versioned = versionedName(name, body);
    files.set(versioned, { body, contentType: CONTENT_TYPES[extname(name)]! });
    return `${ASSETS}${versioned}`;
  };
  const swaggerUiCss = add('swagger-ui.css', readFileSync(join(packageDir, 'swagger-ui.css')));
  const galionCss = add('docs.css', Buffer.from(STYLESHEET));
  const bundle = add('swagger-ui-bundle.js', readFileSync(join(packageDir, 'swagger-ui-bundle.js')));
  const initializer = add('docs.js', Buffer.from(INITIALIZER));

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Galion API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${swaggerUiCss}">
<link rel="stylesheet" href="${galionCss}">
</head>
<body>
<main>
<noscript><p>This page needs JavaScript. The API description itself is at <a href="${OPENAPI_URL}">${OPENAPI_URL}</a>.</p></noscript>
<p id="unavailable" role="status" hidden></p>
<div id="swagger-ui"></div>
</main>
<script src="${bundle}"></script>
<script src="${initializer}"></script>
</body>
</html>
`;

  return {
    sendPage: (res) => {
      res.set({ 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }).type('html').send(html);
    },
    assets: (req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.path.startsWith(ASSETS)) return next();
      res.locals.routeTemplate = `${ASSETS}*`;
      // An exact look-up of the raw name: `..`, encoded slashes or another file of the package match nothing.
      const asset = files.get(req.path.slice(ASSETS.length));
      if (!asset) return next(new AppError(404, 'not_found', 'No such file of the docs page.'));
      res
        .status(200)
        .set({
          'Content-Type': asset.contentType,
          'Content-Length': String(asset.body.length),
          'Cache-Control': 'public, max-age=31536000, immutable',
        })
        .end(req.method === 'HEAD' ? undefined : asset.body);
    },
  };
};
