export { freePort } from './ports';
export { startPostgres, type PostgresHandle, type PostgresOptions } from './postgres';
export { startRedis, type RedisHandle, type RedisOptions } from './redis';
export { startKafka, type KafkaHandle, type KafkaOptions } from './kafka';
export { eventually, startTestServer, testDatabase, testEnv, testKafkaBrokers, testRedis, type TestDatabase } from './testing';
