import { ConfigError } from '@galion/kit';
import { loadAnalyticsConfig } from '../src/config';
import { composeAnalytics } from '../src/service';
import { silentLogger } from './harness';

const BASE = { DATABASE_URL: 'postgres://analytics@db.example:5432/analytics' };

describe('analytics configuration', () => {
  it('when only DATABASE_URL is set, then the defaults apply', () => {
    const config = loadAnalyticsConfig(BASE);
    expect(config).toMatchObject({
      port: 8083,
      consumerGroup: 'analytics',
      consumerEnabled: true,
      topic: 'user-events',
      dlqTopic: 'user-events.dlq',
      retentionDays: 90,
      rollupRetentionDays: 730,
      kafka: undefined,
      verifier: { audience: 'galion', jwksUrl: undefined },
    });
  });

  it('when Kafka, JWKS and secrets are set, then they are read', () => {
    const config = loadAnalyticsConfig({
      ...BASE,
      DATABASE_PASSWORD: 's3cret/+',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'analytics',
      KAFKA_SASL_PASSWORD: 'pw',
      KAFKA_TOPIC_PARTITIONS: '6',
      AUTH_JWKS_URL: 'http://auth:8081/api/v1/auth/.well-known/jwks.json',
      JWT_ISSUER: 'https://api.example.com/api/v1/auth',
      ANALYTICS_RETENTION_DAYS: '30',
    });
    expect(config.database.url).toBe('postgres://analytics:s3cret%2F%2B@db.example:5432/analytics');
    expect(config.kafka).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      clientId: 'galion-analytics',
      partitions: 6,
      sasl: { mechanism: 'scram-sha-512' },
    });
    expect(config.verifier).toMatchObject({
      jwksUrl: 'http://auth:8081/api/v1/auth/.well-known/jwks.json',
      issuer: 'https://api.example.com/api/v1/auth',
    });
    expect(config.retentionDays).toBe(30);
  });

  it.each([
    [{ DATABASE_URL: '' }, 'DATABASE_URL'],
    [{ ANALYTICS_RETENTION_DAYS: '0' }, 'ANALYTICS_RETENTION_DAYS'],
    [{ ANALYTICS_RETENTION_DAYS: 'ninety' }, 'ANALYTICS_RETENTION_DAYS'],
    [{ ANALYTICS_RETENTION_DAYS: '1000' }, 'ANALYTICS_ROLLUP_RETENTION_DAYS'],
    [{ ANALYTICS_CONSUMER_ENABLED: 'maybe' }, 'ANALYTICS_CONSUMER_ENABLED'],
    [{ KAFKA_SASL_MECHANISM: 'plain' }, 'KAFKA_SASL_PASSWORD'],
    [{ PORT: '70000' }, 'PORT'],
  ])('when %j is set, then the start stops naming %s', (values, variable) => {
    const env = { ...BASE, ...values };
    expect(() => loadAnalyticsConfig(env)).toThrow(new RegExp(`${variable}:`));
    expect(() => loadAnalyticsConfig(env)).toThrow(ConfigError);
  });

  it('when neither KAFKA_BROKERS nor a bus is given and the consumer is on, then composing stops with a clear message', async () => {
    const config = loadAnalyticsConfig({ ...BASE, AUTH_JWKS_URL: 'http://auth/jwks' });
    await expect(composeAnalytics(config, { logger: silentLogger })).rejects.toThrow(/KAFKA_BROKERS: required/);
  });

  it('when no JWKS URL and no keys are given, then composing stops with a clear message', async () => {
    const config = loadAnalyticsConfig({ ...BASE, ANALYTICS_CONSUMER_ENABLED: 'false' });
    await expect(composeAnalytics(config, { logger: silentLogger })).rejects.toThrow(/AUTH_JWKS_URL: required/);
  });
});
