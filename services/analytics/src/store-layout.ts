/**
 * What a tool that writes the event store directly needs of its layout (the benchmarks' synthetic
 * history, apps/bench): the migrations, the daily partitions, the events' COPY format, the bitmap block size and the UTC
 * buckets. Exported as @galion/analytics/store-layout, so the tool lives outside the service.
 */
export { analyticsMigrations } from './migrations/index.js';
export { USERS_PER_BLOCK } from './repositories/active-users.js';
export { COPY_EVENTS, eventLine } from './repositories/events.js';
export { PartitionRepository } from './repositories/partitions.js';
export { DAY_MS, floorDay, HOUR_MS } from './time.js';
