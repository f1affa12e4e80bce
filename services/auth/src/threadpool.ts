import { availableParallelism } from 'node:os';

// argon2 hashes on libuv's pool, AUTH_ARGON2_CONCURRENCY at once (the cores by default): four
// threads more than the cores leave files, DNS and other crypto a thread while every core hashes.
// Node reads UV_THREADPOOL_SIZE when it first uses the pool, so main imports this before anything.
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism() + 4);
