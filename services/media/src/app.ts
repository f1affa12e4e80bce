import {
  ApiRouter,
  createHttpApp,
  declarationsOf,
  httpAppBase,
  runWithContext,
  type GatewayRouteDeclaration,
  type HttpAppBase,
} from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { MediaMetrics } from './domain/metrics.js';
import type { MediaService } from './domain/media-service.js';
import { BASE, registerMediaRoutes } from './routes/media-routes.js';
import { MULTIPART_OVERHEAD_BYTES } from './routes/upload-body.js';
import type { UploadGate } from './routes/upload-gate.js';
import { UPLOAD_TYPES } from './schemas.js';

export interface MediaAppDeps extends HttpAppBase {
  media: MediaService;
  mediaMetrics: MediaMetrics;
  uploads: UploadGate;
  verifier: TokenVerifier;
  maxUploadBytes: number;
}

/** MEDIA_MAX_UPLOAD_BYTES's default, for the declarations the gateway's table is generated from. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1_048_576;

/**
 * The router of media: its upload takes a body the kit's routes do not parse (an image, raw or
 * multipart), so its request body is described here, in the document the routes make.
 */
class MediaApiRouter extends ApiRouter {
  override openApiDocument(info: { title: string; version: string; description?: string }): object {
    const document = super.openApiDocument(info) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const upload = document.paths[BASE]?.post;
    if (upload) {
      const image = { schema: { type: 'string', contentMediaType: 'image/*' } };
      upload.requestBody = {
        required: true,
        description: 'The image: the body itself with its image type, or the part `file` of a multipart/form-data body.',
        content: {
          ...Object.fromEntries(UPLOAD_TYPES.map((type) => [type, image])),
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['file'],
              properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
            },
          },
        },
      };
    }
    return document;
  }
}

const registerRoutes = (api: ApiRouter, deps: MediaAppDeps): void =>
  registerMediaRoutes(api, { media: deps.media, metrics: deps.mediaMetrics, uploads: deps.uploads, maxUploadBytes: deps.maxUploadBytes });

/** The media HTTP app, built from its dependencies; it does not listen. */
export const createMediaApp = (deps: MediaAppDeps): Express => {
  const api = new MediaApiRouter(tokenGuards(deps.verifier));
  registerRoutes(api, deps);
  return createHttpApp(
    {
      service: 'media',
      ...httpAppBase(deps),
      openapi: {
        path: `${BASE}/openapi.json`,
        title: 'Galion media',
        version: '1.0.0',
        description: 'Images: uploads checked by their bytes and re-encoded without metadata, thumbnails, downloads and short-lived URLs.',
      },
      // The upload reads its own body as it streams (an image, not JSON): it is routed before the kit's JSON parser.
      mount: (app) => {
        app.post(BASE, (req, res, next) => runWithContext({ requestId: req.id }, () => api.router(req, res, next)));
      },
    },
    api,
  );
};

/**
 * The routes of media as the gateway must know them (public or not, body limits), read from their
 * declarations; the upload's own limit is the default MEDIA_MAX_UPLOAD_BYTES with a multipart
 * body's framing (the gateway's table is generated from these).
 */
export const mediaGatewayRoutes = (maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerRoutes(api, { maxUploadBytes } as MediaAppDeps))
    .gatewayRoutes()
    .map((route) =>
      route.method === 'POST' && route.path === BASE ? { ...route, bodyLimit: `${maxUploadBytes + MULTIPART_OVERHEAD_BYTES}b` } : route,
    );
