import { startKafka, type KafkaHandle } from './kafka';
import { startPostgres, type PostgresHandle } from './postgres';
import { startRedis, type RedisHandle } from './redis';
import { testEnv } from './testing';

type Handle = PostgresHandle | RedisHandle | KafkaHandle;

declare global {
  /** The servers started by the global setup, for the global teardown. */
  var galionTestDependencies: Handle[] | undefined;
}

const startUnlessGiven = async <T extends Handle>(
  envName: string,
  start: () => Promise<T>,
  address: (handle: T) => string,
): Promise<T[]> => {
  if (process.env[envName]) return [];
  const handle = await start();
  process.env[envName] = address(handle);
  return [handle];
};

/**
 * Starts one PostgreSQL, one Redis and one Kafka broker for the whole jest run and hands their
 * addresses to the test workers through the environment. Servers already named in the environment
 * (started by hand) are used instead.
 */
export default async function startTestDependencies(): Promise<void> {
  const results: PromiseSettledResult<Handle[]>[] = await Promise.allSettled([
    startUnlessGiven(testEnv.postgresUrl, startPostgres, (postgres) => postgres.url),
    startUnlessGiven(testEnv.redisUrl, startRedis, (redis) => redis.url),
    startUnlessGiven(testEnv.kafkaBrokers, startKafka, (kafka) => kafka.brokers.join(',')),
  ]);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((handle) => handle.stop()));
    throw failure.reason;
  }
  globalThis.galionTestDependencies = started;
}
