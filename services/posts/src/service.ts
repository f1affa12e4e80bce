import { connectEventBus, startErasureConsumer, startOutboxRelay, type EventBus, type OutboxRelay } from '@galion/events';
import {
  ConfigError,
  connectStore,
  httpSettings,
  openServiceWithDatabase,
  type ComposedService,
  type KeyValueStore,
  type Knex,
  type Logger,
} from '@galion/kit';
import { createTokenVerifier, type KeySource, type TokenVerifier } from '@galion/tokens';
import { createPostsApp } from './app.js';
import type { PostsConfig } from './config.js';
import { CommentService } from './domain/comment-service.js';
import { AuthorErasure } from './domain/erasure.js';
import { PostService } from './domain/post-service.js';
import { postsMigrations } from './migrations/index.js';
import { AuthorRepository } from './repositories/authors.js';
import { CommentRepository } from './repositories/comments.js';
import { PostRepository } from './repositories/posts.js';

export { loadPostsConfig, postsEnvSchema, type PostsConfig } from './config.js';
export { postsMigrations } from './migrations/index.js';

export interface PostsInfrastructure {
  logger: Logger;
  /** Shared in one process (all-in-one): the token denylist; otherwise Redis or memory from config. */
  store?: KeyValueStore;
  /** Shared in one process (all-in-one, tests); otherwise Kafka from config. */
  bus?: EventBus;
  /** Verification keys known in-process (all-in-one); otherwise auth's JWKS. */
  keys?: KeySource;
  /** A ready verifier (tests); takes precedence over `keys`. */
  verifier?: TokenVerifier;
  createDatabase?: boolean;
}

export interface ComposedPosts extends ComposedService {
  knex: Knex;
  posts: PostService;
  comments: CommentService;
  erasure: AuthorErasure;
  verifier: TokenVerifier;
  relay: OutboxRelay | undefined;
}

/** Composes the posts service: database, store, verifier, bus, relay, consumer, app and health. */
export const composePosts = async (config: PostsConfig, infra: PostsInfrastructure): Promise<ComposedPosts> => {
  const { logger } = infra;
  const { closers, metrics, health, knex } = await openServiceWithDatabase({
    service: 'posts',
    config,
    migrations: postsMigrations,
    logger,
    create: infra.createDatabase,
  });
  try {
    const postRepository = new PostRepository(knex);
    if (!(await postRepository.hasTextSearchConfig(config.searchLanguage))) {
      throw new ConfigError(
        `Invalid configuration, fix these environment variables:\n  POSTS_SEARCH_LANGUAGE: "${config.searchLanguage}" is not a text search configuration of this PostgreSQL (there are: ${(await postRepository.textSearchConfigs()).join(', ')})`,
      );
    }
    const store = await connectStore({ injected: infra.store, redisUrl: config.redisUrl, logger, health, closers });
    const verifier = infra.verifier ?? createTokenVerifier(config.verifier, { keys: infra.keys, store, logger });
    const repositories = { knex, posts: postRepository, comments: new CommentRepository(knex), authors: new AuthorRepository(knex) };
    const posts = new PostService({ ...repositories, searchLanguage: config.searchLanguage, searchRankedMatches: config.searchRankedMatches });
    const comments = new CommentService(repositories);
    const erasure = new AuthorErasure({ ...repositories, logger });

    const bus = connectEventBus({ injected: infra.bus, kafka: config.kafka, logger, closers });
    const relay = startOutboxRelay({ bus, outbox: config.outbox, knex, logger, registry: metrics.registry, closers });
    if (bus) {
      const subscription = await startErasureConsumer({
        bus,
        erasure,
        groupId: config.consumerGroup,
        logger,
        registry: metrics.registry,
        service: 'posts',
        removes: 'posts and comments',
      });
      closers.push({ name: 'event consumer', close: () => subscription.stop() });
    } else {
      logger.warn('no event bus (KAFKA_BROKERS): deleted users’ posts and comments are not removed until one is configured');
    }

    const app = createPostsApp({
      logger,
      metrics,
      health,
      posts,
      comments,
      verifier,
      publicMaxAgeSeconds: config.publicMaxAgeSeconds,
      ...httpSettings(config),
    });
    return { app, metrics, health, closers, knex, posts, comments, erasure, verifier, relay };
  } catch (error) {
    for (const closer of [...closers].reverse()) await closer.close().catch(() => undefined);
    throw error;
  }
};
