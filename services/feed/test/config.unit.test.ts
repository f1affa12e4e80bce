import { feedEnvSchema, loadFeedConfig } from '../src/config';

const minimal = { REDIS_URL: 'redis://localhost:6379' };

describe('the feed configuration', () => {
  it('when only REDIS_URL is set, then the defaults are the documented ones', () => {
    const config = loadFeedConfig(minimal);
    expect(config).toMatchObject({
      port: 8085,
      redisUrl: 'redis://localhost:6379',
      redisPrefix: 'galion:feed:',
      topic: 'user-events',
      dlqTopic: 'user-events.dlq',
      consumerGroup: 'feed',
      consumerEnabled: true,
      maxEntries: 1_000,
      globalMaxEntries: 1_000,
      fanoutMaxFollowers: 10_000,
      entryTtlMs: 30 * 86_400_000,
      kafka: undefined,
    });
    expect(feedEnvSchema.shape.PORT.parse(undefined)).toBe(8085);
  });

  it('when REDIS_URL is missing, then loading fails naming it', () => {
    expect(() => loadFeedConfig({})).toThrow(/REDIS_URL: .*\(not set\)/);
  });

  it('when a setting is out of range, then loading fails naming it', () => {
    expect(() => loadFeedConfig({ ...minimal, FEED_MAX_ENTRIES: '5' })).toThrow(/FEED_MAX_ENTRIES/);
    expect(() => loadFeedConfig({ ...minimal, FEED_FANOUT_MAX_FOLLOWERS: '-1' })).toThrow(/FEED_FANOUT_MAX_FOLLOWERS/);
    expect(() => loadFeedConfig({ ...minimal, FEED_REDIS_PREFIX: 'has space' })).toThrow(/FEED_REDIS_PREFIX/);
  });

  it('when AUTH_URL is set without AUTH_JWKS_URL, then the keys are read from auth’s JWKS; the password goes into the Redis URL', () => {
    const config = loadFeedConfig({ ...minimal, AUTH_URL: 'http://auth:8081/', REDIS_PASSWORD: 'p@ss', KAFKA_BROKERS: 'k1:9092,k2:9092' });
    expect(config.verifier.jwksUrl).toBe('http://auth:8081/api/v1/auth/.well-known/jwks.json');
    expect(config.redisUrl).toBe('redis://:p%40ss@localhost:6379');
    expect(config.kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'], clientId: 'galion-feed' });
  });
});
