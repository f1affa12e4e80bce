import { connectEventBus, startErasureConsumer, startOutboxRelay, type EventBus, type OutboxRelay } from '@galion/events';
import {
  connectStore,
  httpSettings,
  isAppError,
  openServiceWithDatabase,
  type ComposedService,
  type KeyValueStore,
  type Knex,
  type Logger,
} from '@galion/kit';
import { createTokenVerifier, type KeySource, type TokenVerifier } from '@galion/tokens';
import { createMediaApp } from './app.js';
import type { MediaConfig } from './config.js';
import { OwnerErasure } from './domain/erasure.js';
import { configureImageLibrary } from './domain/images.js';
import { MediaService } from './domain/media-service.js';
import { MediaMetrics } from './domain/metrics.js';
import { Slots } from './domain/slots.js';
import { MediaSweeper } from './domain/sweep.js';
import { mediaMigrations } from './migrations/index.js';
import { MediaRepository } from './repositories/media.js';
import { OwnerRepository } from './repositories/owners.js';
import { SIGNED_PATH } from './routes/media-routes.js';
import { UploadGate } from './routes/upload-gate.js';
import { createObjectStore, TempFiles, type ObjectStore } from './storage/index.js';

export { loadMediaConfig, mediaEnvSchema, type MediaConfig } from './config.js';
export { mediaMigrations } from './migrations/index.js';
export { mediaGatewayRoutes } from './app.js';
export type { ObjectStore } from './storage/index.js';

export interface MediaInfrastructure {
  logger: Logger;
  /** Shared in one process (all-in-one): the token denylist; otherwise Redis or memory from config. */
  store?: KeyValueStore;
  /** Shared in one process (all-in-one, tests); otherwise Kafka from config. */
  bus?: EventBus;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS. */
  keys?: KeySource;
  /** A ready verifier (tests); takes precedence over `keys`. */
  verifier?: TokenVerifier;
  /** The object store to use instead of the configuration's (tests). */
  objects?: ObjectStore;
  createDatabase?: boolean;
}

export interface ComposedMedia extends ComposedService {
  knex: Knex;
  media: MediaService;
  objects: ObjectStore;
  sweeper: MediaSweeper;
  erasure: OwnerErasure;
  verifier: TokenVerifier;
  relay: OutboxRelay | undefined;
}

/**
 * Composes the media service: database, temporary files (what earlier processes left removed),
 * object store (its bucket or directory made ready, and a readiness check), verifier, bus, relay,
 * consumer, sweep, app and health.
 */
export const composeMedia = async (config: MediaConfig, infra: MediaInfrastructure): Promise<ComposedMedia> => {
  const { logger } = infra;
  const { closers, metrics, health, knex } = await openServiceWithDatabase({
    service: 'media',
    config,
    migrations: mediaMigrations,
    logger,
    create: infra.createDatabase,
  });
  try {
    configureImageLibrary();
    const tempFiles = await TempFiles.open(config.tmpDir, logger);
    closers.push({ name: 'temporary files', close: () => tempFiles.close() });
    const objects = infra.objects ?? createObjectStore(config.storage, SIGNED_PATH);
    closers.push({ name: 'object store', close: () => objects.close() });
    if (config.storage.kind === 'disk' && !config.storage.signingKey) {
      logger.warn('MEDIA_URL_SIGNING_KEY is not set: signed URLs use a key of this process and stop working when it restarts');
    }
    // The store may come up after the service: readiness says so, and the bucket is made on the first check that reaches it.
    let opened = false;
    const openStore = async () => {
      if (opened) return objects.ping();
      await objects.open();
      opened = true;
    };
    await openStore().catch((error: unknown) => {
      if (!isAppError(error)) throw error;
      logger.warn({ err: error.cause ?? error }, 'the object store cannot be reached yet; readiness fails until it can');
    });
    health.addCheck('object-store', openStore);

    const store = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });
    const verifier = infra.verifier ?? createTokenVerifier(config.verifier, { keys: infra.keys, store, logger });
    const mediaMetrics = new MediaMetrics(metrics.registry, config.maxUploadsInFlight);
    const repositories = { knex, media: new MediaRepository(knex), owners: new OwnerRepository(knex) };
    const media = new MediaService({
      ...repositories,
      store: objects,
      limits: config.limits,
      imageOperations: new Slots(config.imageOperations),
      presignSeconds: config.presignSeconds,
      metrics: mediaMetrics,
      logger,
    });
    const erasure = new OwnerErasure({ ...repositories, store: objects, logger });
    const sweeper = new MediaSweeper({
      ...repositories,
      store: objects,
      pendingGraceMs: config.pendingGraceMs,
      intervalMs: config.sweepIntervalMs,
      logger,
      metrics: mediaMetrics,
    });

    const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers });
    const relay = startOutboxRelay({ bus, outbox: config.outbox, knex, logger, registry: metrics.registry, closers });
    if (bus) {
      const subscription = await startErasureConsumer({
        bus,
        erasure,
        groupId: config.consumerGroup,
        logger,
        registry: metrics.registry,
        service: 'media',
        removes: 'images',
      });
      closers.push({ name: 'event consumer', close: () => subscription.stop() });
    } else {
      logger.warn('no event bus (KAFKA_BROKERS): deleted users’ images are not removed until one is configured');
    }
    sweeper.start();
    closers.push({ name: 'media sweep', close: () => sweeper.stop() });

    const app = createMediaApp({
      logger,
      metrics,
      health,
      media,
      mediaMetrics,
      uploads: new UploadGate(config.maxUploadsInFlight, mediaMetrics.uploadsInFlight),
      tempFiles,
      verifier,
      maxUploadBytes: config.limits.maxUploadBytes,
      ...httpSettings(config),
    });
    return { app, metrics, health, closers, knex, media, objects, sweeper, erasure, verifier, relay };
  } catch (error) {
    for (const closer of [...closers].reverse()) await closer.close().catch(() => undefined);
    throw error;
  }
};
