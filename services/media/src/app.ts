import { ApiRouter, createHttpApp, declarationsOf, httpAppBase, type GatewayRouteDeclaration, type HttpAppBase } from '@galion/kit';
import { tokenGuards, type TokenVerifier } from '@galion/tokens';
import type { Express } from 'express';
import type { MediaMetrics } from './domain/metrics.js';
import type { MediaService } from './domain/media-service.js';
import { BASE, registerMediaRoutes } from './routes/media-routes.js';
import type { UploadGate } from './routes/upload-gate.js';
import type { TempFiles } from './storage/index.js';

export interface MediaAppDeps extends HttpAppBase {
  media: MediaService;
  mediaMetrics: MediaMetrics;
  uploads: UploadGate;
  tempFiles: TempFiles;
  verifier: TokenVerifier;
  maxUploadBytes: number;
}

/** MEDIA_MAX_UPLOAD_BYTES's default, for the declarations the gateway's table is generated from. */
export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1_048_576;

const registerRoutes = (api: ApiRouter, deps: MediaAppDeps): void =>
  registerMediaRoutes(api, {
    media: deps.media,
    metrics: deps.mediaMetrics,
    uploads: deps.uploads,
    tempFiles: deps.tempFiles,
    maxUploadBytes: deps.maxUploadBytes,
  });

/** The media HTTP app, built from its dependencies; it does not listen. */
export const createMediaApp = (deps: MediaAppDeps): Express => {
  const api = new ApiRouter(tokenGuards(deps.verifier));
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
    },
    api,
  );
};

/**
 * The routes of media as the gateway must know them (public or not, body limits), read from their
 * declarations: the upload's own limit (its `rawBody`) is MEDIA_MAX_UPLOAD_BYTES, by default, with
 * a multipart body's framing (the gateway's table is generated from these).
 */
export const mediaGatewayRoutes = (maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES): GatewayRouteDeclaration[] =>
  declarationsOf((api) => registerRoutes(api, { maxUploadBytes } as MediaAppDeps)).gatewayRoutes();
