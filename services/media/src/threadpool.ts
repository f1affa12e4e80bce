// sharp's image operations run on libuv's pool, two fewer at once than its threads (the config's
// imageOperations): four, as many as ran with Node's default pool of four, and two threads left
// for the uploads' file reads and writes (and DNS), which would otherwise wait behind every image
// queued. Node reads UV_THREADPOOL_SIZE when it first uses the pool, so main imports this first.
process.env.UV_THREADPOOL_SIZE ??= '6';
