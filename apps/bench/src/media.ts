import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { startPlatform, type Platform, type RunningService } from '@galion/launcher';
import { freePort } from '@galion/localdeps';
import sharp from 'sharp';
import { closedLoop, type LoopClient } from './closed-loop.js';
import { errorCodeOf, getRequest, KeepAliveConnection, type Answer } from './keep-alive.js';
import { fmt, pooled, row, sleep, statsOf, tally, type Stats } from './load.js';
import { call, signUp, sumOf, type SignedIn } from './platform-api.js';
import {
  coresText,
  cpuPerText,
  histogramQuantileMsOf,
  labelCountsOf,
  meanMsOf,
  snapshot,
  usageBetween,
  type Snapshot,
  type Usage,
} from './platform-usage.js';

/**
 * The media benchmark (`npm run bench media`): uploads, their processing, downloads and the memory
 * an upload in flight holds, on the distributed platform (a process per service, durable
 * PostgreSQL, Redis, Kafka, media's images in versitygw's S3 buckets), every request through the
 * gateway as an API client sends it. docs/media.md (Benchmark) gives the figures.
 */

export interface MediaBenchOptions {
  seconds: number;
  concurrency: number;
}

/** Past this an upload counts as unanswered: with 100 clients of 10 MB on two cores, each waits behind the 99 others for about a minute. */
const ANSWER_TIMEOUT_MS = 300_000;
/** The limits raised for the bench: one IP sends everything, and a client uploads far more than a person does. */
const RAISED_LIMIT = '10000000';
/** Room for every image a run stores: no client's quota runs out (media's defaults are 1,000 images and 1 GiB). */
const RAISED_QUOTA = { MEDIA_QUOTA_FILES: '1000000', MEDIA_QUOTA_BYTES: String(1_000_000_000_000) };
/** media's default MEDIA_MAX_UPLOAD_BYTES (10 MiB), which the bench keeps: the images are made to fit it. */
const MAX_UPLOAD_BYTES = 10 * 1_048_576;
/** The issue's targets, from the system media replaces: "image upload under 5 s for 10 MB", "100+ concurrent uploads". */
const TARGET_UPLOAD_P99_MS = 5_000;
const TARGET_CONCURRENT_UPLOADS = 100;
const MB = 1_000_000;
/** The chunks of a chunked upload, as a browser's or a proxy's might be. */
const CHUNK_BYTES = 64 * 1024;
const UPLOAD_PATH = '/api/v1/media';

const log = (line: string) => process.stderr.write(`[media bench] ${line}\n`);

const mb = (bytes: number, digits = 1) => `${fmt(bytes / MB, digits)} MB`;

// ---------------------------------------------------------------------------------------------
// Images: made once at the start with sharp.

interface TestImage {
  name: string;
  bytes: Buffer;
  width: number;
  height: number;
}

/**
 * A JPEG (quality 90) of `width` × `height` that looks to an encoder like a photo: a smooth field
 * of colour (coarse noise, enlarged) under fine noise. It takes about half a byte per pixel, as a
 * camera's JPEG does, so it neither compresses to nothing nor has thumbnails of one flat colour
 * (fine noise alone averages out to grey at 512 pixels).
 */
const photoLikeJpeg = async (width: number, height: number): Promise<Buffer> => {
  const gray = { r: 128, g: 128, b: 128 };
  const coarse = await sharp({
    create: {
      width: Math.ceil(width / 48),
      height: Math.ceil(height / 48),
      channels: 3,
      background: gray,
      noise: { type: 'gaussian', mean: 128, sigma: 70 },
    },
  })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const field = await sharp(coarse.data, { raw: coarse.info }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
  const fine = await sharp({ create: { width, height, channels: 3, background: gray, noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .raw()
    .toBuffer();
  const raw = { width, height, channels: 3 } as const;
  return sharp(field, { raw })
    .composite([{ input: fine, raw, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toBuffer();
};

/** A 3:2 JPEG of about `target` bytes (within 5%) and at most MAX_UPLOAD_BYTES: sized from a small one's bytes per pixel, then corrected. */
const makeImage = async (name: string, target: number): Promise<TestImage> => {
  let perPixel = (await photoLikeJpeg(1200, 800)).length / (1200 * 800);
  for (let attempt = 1; ; attempt += 1) {
    const width = Math.round(Math.sqrt((target / perPixel) * 1.5));
    const height = Math.round(width / 1.5);
    const bytes = await photoLikeJpeg(width, height);
    if (bytes.length <= MAX_UPLOAD_BYTES && Math.abs(bytes.length - target) <= target * 0.05) return { name, bytes, width, height };
    if (attempt === 4) throw new Error(`could not make a JPEG of about ${fmt(target)} bytes (the last had ${fmt(bytes.length)})`);
    perPixel = bytes.length / (width * height);
  }
};

// ---------------------------------------------------------------------------------------------
// Requests, over bare keep-alive sockets as the other benches send them: the body is written as
// it is (one buffer shared by every client), never copied per request.

const uploadHead = (port: number, token: string, framing: { length: number } | 'chunked'): string =>
  `POST ${UPLOAD_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${token}\r\ncontent-type: image/jpeg\r\n${
    framing === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${framing.length}`
  }\r\n\r\n`;

/** An upload as `curl --data-binary @photo.jpg -H 'content-type: image/jpeg'` sends it: the raw body with its Content-Length. */
const uploadRequest = (port: number, token: string, image: Buffer): (string | Buffer)[] => [
  uploadHead(port, token, { length: image.length }),
  image,
];

/** The start of an upload held mid-body: its head, then the chunks (of CHUNK_BYTES) that make the first half of the image. */
const chunkedFirstHalf = (port: number, token: string, image: Buffer): (string | Buffer)[] => {
  const parts: (string | Buffer)[] = [uploadHead(port, token, 'chunked')];
  for (let offset = 0; offset < image.length / 2; offset += CHUNK_BYTES) {
    const chunk = image.subarray(offset, offset + CHUNK_BYTES);
    parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
  }
  return parts;
};

/** The start of an upload held mid-body: its head, declaring the whole image, then the first half of it. */
const contentLengthFirstHalf = (port: number, token: string, image: Buffer): (string | Buffer)[] => [
  uploadHead(port, token, { length: image.length }),
  image.subarray(0, Math.floor(image.length / 2)),
];

/** An answer as the tally shows it: `201`, `503 overloaded`, `timeout`. */
const outcomeOf = (answer: Answer): string =>
  answer.failure ??
  (answer.status !== undefined && answer.status < 300 ? String(answer.status) : `${answer.status} ${errorCodeOf(answer) ?? ''}`.trim());

/** One upload on a connection of its own, which must be stored: the image's id. */
const uploadOnce = async (port: number, token: string, image: TestImage): Promise<string> => {
  const connection = new KeepAliveConnection(port, ANSWER_TIMEOUT_MS);
  try {
    const answer = await connection.exchange(uploadRequest(port, token, image.bytes));
    if (answer.status !== 201) throw new Error(`an upload of the ${image.name} image answered ${outcomeOf(answer)}`);
    return (JSON.parse(answer.body!.toString('utf8')) as { id: string }).id;
  } finally {
    connection.close();
  }
};

// ---------------------------------------------------------------------------------------------

interface Env {
  platform: Platform;
  /** The gateway's port, and media's own (the direct baseline). */
  port: number;
  mediaPort: number;
  users: SignedIn[];
}

/** A process's memory from its /metrics: resident set, and the Buffers outside V8's heap. */
interface Memory {
  rss: number;
  external: number;
}

const memoryOf = async (service: RunningService): Promise<Memory> => {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return { rss: sumOf(text, 'process_resident_memory_bytes'), external: sumOf(text, 'nodejs_external_memory_bytes') };
};

/** The highest RSS of media and the gateway, and of media_uploads_in_flight, read every second while a run goes. */
const peakSampler = (platform: Platform) => {
  const peak = { media: 0, gateway: 0, inFlight: 0 };
  const media = platform.service('media');
  const gateway = platform.service('gateway');
  const sample = async () => {
    const [mediaText, gatewayMemory] = await Promise.all([(await fetch(`${media.url}/metrics`)).text(), memoryOf(gateway)]);
    peak.media = Math.max(peak.media, sumOf(mediaText, 'process_resident_memory_bytes'));
    peak.inFlight = Math.max(peak.inFlight, sumOf(mediaText, 'media_uploads_in_flight'));
    peak.gateway = Math.max(peak.gateway, gatewayMemory.rss);
  };
  const timer = setInterval(() => void sample().catch(() => undefined), 1_000);
  return {
    peak,
    stop: async () => {
      clearInterval(timer);
      await sample();
    },
  };
};

// --- 1 and 2. Uploads and their processing ---------------------------------------------------

interface UploadFigures {
  image: TestImage;
  clients: number;
  seconds: number;
  stored: number;
  times: Stats;
  outcomes: string;
  /** media_uploads_total{result="overloaded"}: refused past MEDIA_MAX_UPLOADS_IN_FLIGHT. */
  overloaded: number;
  /** media_processing_duration_seconds over the run: the mean (exact), p50 and p99 (from its buckets), ms. */
  processing: { mean: number; p50: number; p99: number };
  /** Mean of a 201 in media (its handler: body, processing, store, transactions) and the gateway's wait on media, ms. */
  inMedia: number;
  inGateway: number;
  /** media's answers as the gateway saw them (gateway_upstream_request_duration_seconds), a tally. */
  upstream: string;
  usage: Usage;
  peak: { media: number; gateway: number; inFlight: number };
}

const PROCESSING = 'media_processing_duration_seconds';

const uploadRun = async (env: Env, image: TestImage, clients: number, seconds: number): Promise<UploadFigures> => {
  const { platform, port, users } = env;
  log(`uploads: ${image.name}, ${clients} client${clients > 1 ? 's' : ''}, ${seconds} s`);
  const outcomes: string[] = [];
  const loop: LoopClient[] = users.slice(0, clients).map((user) => ({
    next: () => ({ request: uploadRequest(port, user.token, image.bytes), kind: 'upload' }),
    answered: (answer) => outcomes.push(outcomeOf(answer)),
  }));
  const before = await snapshot(platform);
  const sampler = peakSampler(platform);
  const run = await closedLoop(port, loop, seconds, ANSWER_TIMEOUT_MS).finally(() => sampler.stop());
  const after = await snapshot(platform);
  const media = (at: Snapshot) => at.texts.media ?? '';
  const stored = run.probes.filter((probe) => probe.status === 201);
  return {
    image,
    clients,
    seconds: run.seconds,
    stored: stored.length,
    times: statsOf(stored.map((probe) => probe.ms)),
    outcomes: tally(outcomes),
    overloaded:
      sumOf(media(after), 'media_uploads_total', ['result="overloaded"']) -
      sumOf(media(before), 'media_uploads_total', ['result="overloaded"']),
    processing: {
      mean: meanMsOf(media(before), media(after), PROCESSING, []),
      p50: histogramQuantileMsOf(media(before), media(after), PROCESSING, 0.5),
      p99: histogramQuantileMsOf(media(before), media(after), PROCESSING, 0.99),
    },
    inMedia: meanMsOf(media(before), media(after), 'http_server_request_duration_seconds', [
      `route="${UPLOAD_PATH}"`,
      'method="POST"',
      'status_code="201"',
    ]),
    upstream: labelCountsOf(
      before.texts.gateway ?? '',
      after.texts.gateway ?? '',
      'gateway_upstream_request_duration_seconds_count',
      'status_code',
      ['upstream="media"'],
    ),
    inGateway: meanMsOf(before.texts.gateway ?? '', after.texts.gateway ?? '', 'gateway_upstream_request_duration_seconds', [
      'upstream="media"',
      'status_code="201"',
    ]),
    usage: usageBetween(before, after),
    peak: sampler.peak,
  };
};

/** A quantile from the histogram's buckets: past its last finite bound (10 s), all that is known is that it is past it. */
const bucketMs = (ms: number): string => (ms === Infinity ? '>10,000' : fmt(ms, 0));

const UPLOAD_WIDTHS = [7, 8, 8, 9, 7, 8, 8, 8, 10, 24, 9, 9, 28];

const uploadLines = (figures: UploadFigures[]): string[] => [
  row(
    [
      'image',
      'clients',
      'uploads',
      'images/s',
      'MB/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p99 ÷ 5 s',
      'processing mean/p50/p99',
      'in media',
      'gw wait',
      'answers',
    ],
    UPLOAD_WIDTHS,
  ),
  ...figures.flatMap((f) => [
    row(
      [
        f.image.name,
        f.clients,
        fmt(f.stored),
        fmt(f.stored / f.seconds, 2),
        fmt((f.stored * f.image.bytes.length) / MB / f.seconds, 1),
        fmt(f.times.p50, 0),
        fmt(f.times.p99, 0),
        fmt(f.times.max, 0),
        fmt(f.times.p99 / TARGET_UPLOAD_P99_MS, 2),
        `${fmt(f.processing.mean, 0)} / ${bucketMs(f.processing.p50)} / ${bucketMs(f.processing.p99)}`,
        fmt(f.inMedia, 0),
        fmt(f.inGateway, 0),
        f.outcomes,
      ],
      UPLOAD_WIDTHS,
    ),
    `     ${fmt(f.seconds, 1)} s; cores busy: ${coresText(f.usage)}; CPU per upload: ${cpuPerText(f.usage, f.stored, 'ms')}; peak RSS media ${mb(f.peak.media, 0)}, gateway ${mb(f.peak.gateway, 0)}; media_uploads_in_flight up to ${fmt(f.peak.inFlight)}; media's answers as the gateway saw them: ${f.upstream || 'none'}${f.overloaded > 0 ? `; 503 overloaded (MEDIA_MAX_UPLOADS_IN_FLIGHT) ×${fmt(f.overloaded)}` : ''}`,
  ]),
];

// --- 3. Downloads ----------------------------------------------------------------------------

interface DownloadTarget {
  name: string;
  id: string;
  size: 'original' | 'medium';
  bytes: number;
}

interface DownloadFigures {
  perSecond: number;
  mbPerSecond: number;
  times: Stats;
  outcomes: string;
  /** Mean of a 200 in media, ms (none for the store). */
  inMedia: number;
  usage: Usage;
}

/** `clients` in a closed loop of GETs of `target` on 127.0.0.1:`port`, for `seconds` after a second of warm-up; every 200 must carry `bytes`. */
const downloadRun = async (
  platform: Platform,
  port: number,
  target: string,
  token: string | undefined,
  bytes: number,
  clients: number,
  seconds: number,
): Promise<DownloadFigures> => {
  const client = (outcomes: string[], received: { bytes: number }): LoopClient => ({
    next: () => ({ request: getRequest(port, target, token), kind: 'download' }),
    answered: (answer) => {
      if (answer.status === 200 && answer.body?.length !== bytes)
        outcomes.push(`200 of ${fmt(answer.body?.length ?? 0)} bytes, not ${fmt(bytes)}`);
      else outcomes.push(outcomeOf(answer));
      received.bytes += answer.status === 200 ? (answer.body?.length ?? 0) : 0;
    },
  });
  await closedLoop(
    port,
    Array.from({ length: clients }, () => client([], { bytes: 0 })),
    1,
    ANSWER_TIMEOUT_MS,
  );
  const outcomes: string[] = [];
  const received = { bytes: 0 };
  const before = await snapshot(platform);
  const run = await closedLoop(
    port,
    Array.from({ length: clients }, () => client(outcomes, received)),
    seconds,
    ANSWER_TIMEOUT_MS,
  );
  const after = await snapshot(platform);
  const ok = run.probes.filter((probe) => probe.status === 200);
  return {
    perSecond: ok.length / run.seconds,
    mbPerSecond: received.bytes / MB / run.seconds,
    times: statsOf(ok.map((probe) => probe.ms)),
    outcomes: tally(outcomes),
    inMedia: meanMsOf(before.texts.media ?? '', after.texts.media ?? '', 'http_server_request_duration_seconds', [
      `route="${UPLOAD_PATH}/{id}/content"`,
      'status_code="200"',
    ]),
    usage: usageBetween(before, after),
  };
};

const DOWNLOAD_WIDTHS = [24, 34, 8, 9, 8, 8, 9, 10, 24];

const benchDownloads = async (env: Env, targets: DownloadTarget[], clients: number, seconds: number): Promise<string[]> => {
  const { platform, port, mediaPort, users } = env;
  const owner = users[0]!;
  const api = `${platform.gatewayUrl.replace('localhost', '127.0.0.1')}/api/v1`;
  const lines = [
    `3. Downloads: GET ${UPLOAD_PATH}/{id}/content?size=… by ${clients} clients in a closed loop (bearer token, keep-alive), ${seconds} s each after 1 s of warm-up; the same bytes through the gateway, straight from media (its own port), and straight from the store (versitygw, the presigned URL of GET ${UPLOAD_PATH}/{id}/url: no token, no service)`,
    `   ${row(['download', 'path', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'in media', '× direct', 'answers'], DOWNLOAD_WIDTHS)}`,
  ];
  const ratios: string[] = [];
  for (const target of targets) {
    const content = `${UPLOAD_PATH}/${target.id}/content?size=${target.size}`;
    log(`downloads: ${target.name}`);
    const gateway = await downloadRun(platform, port, content, owner.token, target.bytes, clients, seconds);
    const direct = await downloadRun(platform, mediaPort, content, owner.token, target.bytes, clients, seconds);
    // Presigned now: the URL lives MEDIA_PRESIGN_SECONDS (300 s), longer than its run.
    const presigned = new URL(
      ((await call(`${api}/media/${target.id}/url?size=${target.size}`, { token: owner.token }, [200])).body as { url: string }).url,
    );
    const store = await downloadRun(
      platform,
      Number(presigned.port),
      `${presigned.pathname}${presigned.search}`,
      undefined,
      target.bytes,
      clients,
      seconds,
    );
    const name = `${target.name} (${target.bytes >= MB ? mb(target.bytes) : `${fmt(target.bytes / 1000, 1)} kB`})`;
    const line = (label: string, figures: DownloadFigures, ratio: string) => [
      `   ${row(
        [
          label === 'gateway' ? name : '',
          label,
          fmt(figures.perSecond),
          fmt(figures.mbPerSecond, 1),
          fmt(figures.times.p50, 1),
          fmt(figures.times.p99, 1),
          Number.isNaN(figures.inMedia) ? '' : fmt(figures.inMedia, 1),
          ratio,
          figures.outcomes,
        ],
        DOWNLOAD_WIDTHS,
      )}`,
      `     cores busy: ${coresText(figures.usage)}`,
    ];
    lines.push(
      ...line('gateway', gateway, fmt(gateway.perSecond / direct.perSecond, 2)),
      ...line('media directly', direct, '1.00'),
      ...line('the store (presigned URL)', store, fmt(store.perSecond / direct.perSecond, 2)),
    );
    ratios.push(
      `${target.name}: the gateway gives ${fmt(gateway.perSecond / direct.perSecond, 2)}× media's req/s, p50 ${fmt(gateway.times.p50 / direct.times.p50, 2)}× its own`,
    );
  }
  lines.push(
    `   "× direct": req/s over media's own in the same run; "in media": mean time of a 200 in media (http_server_request_duration_seconds: from the request to the last byte written)`,
    `   ${ratios.join('; ')}`,
  );
  return lines;
};

// --- 4. Memory per in-flight upload ----------------------------------------------------------

type Framing = 'Content-Length' | 'chunked';

interface HeldFigures {
  framing: Framing;
  image: TestImage;
  media: { before: Memory; held: Memory };
  gateway: { before: Memory; held: Memory };
  /** media_uploads_in_flight while the uploads were held: those that had reached media. */
  mediaInFlight: number;
  /** Bytes still in the kernel's TCP queues of the gateway's and media's connections when memory was read (0: every byte sent had been read by a process). */
  queued: number;
  heldSeconds: number;
}

/**
 * A full garbage collection in a process started with its inspector on `inspectorPort` (the
 * DevTools protocol's HeapProfiler.collectGarbage): a streaming proxy's memory grows with the
 * chunks it has passed on and not yet collected, and only what it still holds after a collection
 * tells it from one that keeps the bytes.
 */
const collectGarbage = async (inspectorPort: number): Promise<void> => {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    socket.onmessage = (event) => {
      if ((JSON.parse(String(event.data)) as { id?: number }).id !== 1) return;
      socket.close();
      resolve();
    };
    socket.onerror = () => reject(new Error(`the inspector on port ${inspectorPort} failed`));
  });
};

/** A process's memory after a full collection. */
const collectedMemory = async (service: RunningService, inspectorPort: number): Promise<Memory> => {
  await collectGarbage(inspectorPort);
  return memoryOf(service);
};

/** Starts `service` again with its inspector on `inspectorPort`: the launcher starts a service with this process's environment under its own settings, which do not set NODE_OPTIONS. */
const startInspectable = async (service: RunningService, inspectorPort: number): Promise<void> => {
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ''} --inspect=127.0.0.1:${inspectorPort}`.trim();
  try {
    await service.start();
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
};

/** Bytes sent and not yet read by a process (send and receive queues) on the loopback connections to or from `ports`, from /proc/net/tcp. */
const queuedBytes = (ports: number[]): number => {
  const wanted = new Set(ports);
  let queued = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    // sl, local_address, rem_address, st, tx_queue:rx_queue, ...; addresses and queues in hexadecimal.
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    if (!local || !remote || !queues) continue;
    if (!wanted.has(parseInt(local.split(':')[1]!, 16)) && !wanted.has(parseInt(remote.split(':')[1]!, 16))) continue;
    for (const hex of queues.split(':')) queued += parseInt(hex, 16);
  }
  return queued;
};

/**
 * `count` uploads through the gateway held mid-body: the head and half of the image sent, then,
 * once every byte sent has been read by the gateway (and, when it streams, by media), media's and
 * the gateway's memory after a full collection; then their connections are closed. Each run on
 * media and the gateway started afresh: a process's RSS does not shrink after a burst, so a run
 * after another would find memory already taken and show less than it holds.
 */
const heldRun = async (env: Env, image: TestImage, framing: Framing, count: number): Promise<HeldFigures> => {
  const { platform, port, users } = env;
  const media = platform.service('media');
  const gateway = platform.service('gateway');
  const inspectors = { media: await freePort(), gateway: await freePort() };
  log(`memory: ${count} ${image.name} uploads held mid-body, ${framing}; restarting media and the gateway`);
  await Promise.all([gateway.stop(), media.stop()]);
  await startInspectable(media, inspectors.media);
  await startInspectable(gateway, inspectors.gateway);
  // One whole upload first, so both processes have loaded and run the upload's code before the baseline.
  await uploadOnce(port, users[0]!.token, image);
  const before = { media: await collectedMemory(media, inspectors.media), gateway: await collectedMemory(gateway, inspectors.gateway) };
  const connections = users.slice(0, count).map(() => new KeepAliveConnection(port, ANSWER_TIMEOUT_MS));
  try {
    await Promise.all(
      connections.map(async (connection, i) => {
        for (const part of (framing === 'chunked' ? chunkedFirstHalf : contentLengthFirstHalf)(port, users[i]!.token, image.bytes))
          await connection.sendPart(part);
      }),
    );
    const sent = performance.now();
    // Every byte read out of the kernel's queues (or 30 s), so what is measured is in the processes.
    const ports = [port, media.port];
    while (queuedBytes(ports) > 0 && performance.now() - sent < 30_000) await sleep(100);
    const held = { media: await collectedMemory(media, inspectors.media), gateway: await collectedMemory(gateway, inspectors.gateway) };
    return {
      framing,
      image,
      media: { before: before.media, held: held.media },
      gateway: { before: before.gateway, held: held.gateway },
      mediaInFlight: sumOf(await (await fetch(`${media.url}/metrics`)).text(), 'media_uploads_in_flight'),
      queued: queuedBytes(ports),
      heldSeconds: (performance.now() - sent) / 1000,
    };
  } finally {
    for (const connection of connections) connection.close();
  }
};

const HELD_WIDTHS = [16, 7, 10, 30, 14, 30, 14, 10];

const benchMemory = async (env: Env, images: TestImage[], count: number): Promise<string[]> => {
  const runs: HeldFigures[] = [];
  for (const framing of ['Content-Length', 'chunked'] as const)
    for (const image of images) runs.push(await heldRun(env, image, framing, count));
  const perUpload = (memory: { before: Memory; held: Memory }, kind: keyof Memory) => (memory.held[kind] - memory.before[kind]) / count;
  const rssCell = (memory: { before: Memory; held: Memory }) =>
    `${mb(memory.before.rss, 0)} → ${mb(memory.held.rss, 0)} (${mb(perUpload(memory, 'rss'), 2)})`;
  const [small, large] = images;
  const ratio = (framing: Framing, which: 'media' | 'gateway', kind: keyof Memory) => {
    const [of, to] = [small, large].map((image) =>
      perUpload(runs.find((run) => run.framing === framing && run.image === image)![which], kind),
    );
    // Growth under 0.05 MB an upload is noise: a ratio of it means nothing.
    return of! < 0.05 * MB ? 'n/a (no growth)' : fmt(to! / of!, 1);
  };
  const ratios = (framing: Framing) =>
    (['media', 'gateway'] as const)
      .map((which) => `${which} ${ratio(framing, which, 'rss')} (external ${ratio(framing, which, 'external')})`)
      .join(', ');
  const notDrained = runs.filter((run) => run.queued > 0);
  return [
    `4. Memory per in-flight upload: ${count} uploads through the gateway held mid-body (the head and half of the image sent, then held while every byte sent was read out of the kernel's TCP queues and memory was read), each run on media and the gateway started afresh (with --inspect) and warmed by one whole upload`,
    `   memory after a full garbage collection (HeapProfiler.collectGarbage through the inspector), before → while held, and (per upload) the growth over ${count}: RSS (process_resident_memory_bytes) and "ext" (nodejs_external_memory_bytes: Buffers, outside V8's heap); chunked: Transfer-Encoding: chunked in chunks of ${fmt(CHUNK_BYTES / 1024)} KiB`,
    `   ${row(['framing', 'image', 'sent each', 'media RSS (per upload)', 'media ext', 'gateway RSS (per upload)', 'gateway ext', 'in media'], HELD_WIDTHS)}`,
    ...runs.map(
      (run) =>
        `   ${row(
          [
            run.framing,
            run.image.name,
            mb(run.image.bytes.length / 2, 2),
            rssCell(run.media),
            mb(perUpload(run.media, 'external'), 2),
            rssCell(run.gateway),
            mb(perUpload(run.gateway, 'external'), 2),
            `${fmt(run.mediaInFlight)} of ${count}`,
          ],
          HELD_WIDTHS,
        )}`,
    ),
    `   per upload, ${large!.name} ÷ ${small!.name} (the images are ${fmt(large!.bytes.length / small!.bytes.length, 1)}× apart: about 1 when memory does not grow with the size, about that when the bytes are held): Content-Length ${ratios('Content-Length')}; chunked ${ratios('chunked')}`,
    `   "in media": media_uploads_in_flight while held (uploads that had reached media); held ${runs.map((run) => fmt(run.heldSeconds, 1)).join(', ')} s${notDrained.length > 0 ? `; NOT drained: ${notDrained.map((run) => `${run.framing} ${run.image.name} ${mb(run.queued, 1)} still in the kernel's queues`).join(', ')}` : '; every byte sent had been read by a process'}`,
  ];
};

// ---------------------------------------------------------------------------------------------

const PHASES = ['upload', 'download', 'memory'] as const;

/**
 * Media on the distributed platform with its images in versitygw, every request through the
 * gateway: (1) uploads of a ~1 MB and a ~10 MB JPEG by 1, 20 and 100 clients in a closed loop,
 * with (2) media's processing time from its histogram; (3) downloads of the originals and of a 512
 * thumbnail through the gateway beside the same from media directly and from the store; (4) the
 * memory media and the gateway hold per upload in flight, for both sizes, with a Content-Length and
 * chunked.
 */
export const benchMedia = async ({ seconds, concurrency }: MediaBenchOptions): Promise<void> => {
  const uploadSeconds = Number(process.env.BENCH_MEDIA_SECONDS ?? seconds);
  const clientCounts = (process.env.BENCH_MEDIA_CLIENTS ?? `1,${concurrency},${TARGET_CONCURRENT_UPLOADS}`).split(',').map(Number);
  const downloadClients = Number(process.env.BENCH_MEDIA_DOWNLOAD_CLIENTS ?? concurrency);
  const downloadSeconds = Number(process.env.BENCH_MEDIA_DOWNLOAD_SECONDS ?? 5);
  const held = Number(process.env.BENCH_MEDIA_HELD ?? 20);
  const phases = new Set((process.env.BENCH_MEDIA_PHASES ?? PHASES.join(',')).split(',').map((phase) => phase.trim()));
  for (const phase of phases)
    if (!(PHASES as readonly string[]).includes(phase))
      throw new Error(`unknown BENCH_MEDIA_PHASES entry ${phase}; known: ${PHASES.join(', ')}`);
  const users = Math.max(...clientCounts, held, 1);
  // As many uploads at once as the most clients of a run send: none is refused while each client has one in flight.
  const maxInFlight = String(Math.max(...clientCounts, held));

  const dataDir = mkdtempSync(path.join(tmpdir(), 'galion-bench-media-'));
  chmodSync(dataDir, 0o711);
  let platform: Platform | undefined;
  const started = performance.now();
  const loads = [`${loadavg()[0]!.toFixed(1)} at the start`];
  try {
    log('starting the platform (distributed mode) and making the images');
    const [startedPlatform, images] = await Promise.all([
      startPlatform({
        dataDir,
        output: 'ignore',
        // Tokens outlive the run (an hour), so a client signed in at the start still uploads at the end.
        env: { LOG_LEVEL: 'warn', AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600' },
        serviceEnv: {
          gateway: {
            RATE_LIMIT_PER_USER: RAISED_LIMIT,
            RATE_LIMIT_PER_IP: RAISED_LIMIT,
            RATE_LIMIT_AUTH_PER_IP: RAISED_LIMIT,
            // Its 10 s default, from the last byte of the body forwarded to media's answer: an upload queued behind 99 others waits longer.
            MEDIA_UPSTREAM_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS),
            // Its 30 s default to receive a whole request (media's too): 100 bodies of 10 MB move only as fast as
            // the gateway and media, their cores shared with media's image work, pass them on and read them.
            HTTP_REQUEST_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS),
            // Its default of 128 requests in flight to media is enough unless BENCH_MEDIA_CLIENTS asks for more.
            ...(Number(maxInFlight) > 128 && { MEDIA_UPSTREAM_MAX_IN_FLIGHT: maxInFlight }),
          },
          media: { ...RAISED_QUOTA, MEDIA_MAX_UPLOADS_IN_FLIGHT: maxInFlight, HTTP_REQUEST_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS) },
          // Sign-ups are set-up here, not what is measured: argon2id at its lowest cost.
          auth: { AUTH_ARGON2_MEMORY_KIB: '8192', AUTH_ARGON2_TIME_COST: '2' },
        },
      }),
      (async () => [await makeImage('1 MB', MB), await makeImage('10 MB', 10 * MB)])(),
    ]);
    platform = startedPlatform;
    if (!platform.s3)
      throw new Error('versitygw is not built (scripts/install-versitygw.sh): media would keep its images on disk, not in S3');
    const gatewayUrl = platform.gatewayUrl.replace('localhost', '127.0.0.1');
    const api = `${gatewayUrl}/api/v1`;
    const stamp = Date.now();
    log(`signing in ${users} users`);
    const env: Env = {
      platform,
      port: Number(new URL(gatewayUrl).port),
      mediaPort: platform.service('media').port,
      users: await pooled(
        Array.from({ length: users }, (_, i) => i),
        4,
        (i) => signUp(api, `media${i}`, stamp),
      ),
    };
    // Warm-up, not counted: one upload of each image, kept for the downloads.
    const stored: { image: TestImage; id: string }[] = [];
    for (const image of images) stored.push({ image, id: await uploadOnce(env.port, env.users[0]!.token, image) });
    const report: string[] = [];

    if (phases.has('upload')) {
      const figures: UploadFigures[] = [];
      for (const image of images) for (const clients of clientCounts) figures.push(await uploadRun(env, image, clients, uploadSeconds));
      loads.push(`${loadavg()[0]!.toFixed(1)} after the uploads`);
      const solo = (image: TestImage) => figures.find((f) => f.image === image && f.clients === 1);
      const large = images[1]!;
      const most = figures.find((f) => f.image === large && f.clients === Math.max(...clientCounts))!;
      report.push(
        `1. Uploads: POST ${UPLOAD_PATH}, the raw JPEG with its Content-Length (as curl --data-binary sends it), each client a user of its own on a keep-alive connection, sending its next upload as soon as its 201 is back, for ${uploadSeconds} s (each sends at least one; the run ends with the last answer)`,
        `   images: ${images.map((image) => `${image.name} = ${fmt(image.bytes.length)} bytes, ${image.width} × ${image.height} (${fmt(image.bytes.length / (image.width * image.height), 2)} byte/pixel)`).join('; ')}; JPEG quality 90 made with sharp from noise over a smooth field, so they compress as photos do; one upload of each first, not counted`,
        `   MB/s: the images' bytes sent and stored per second; p50/p99/max: of the 201s at the client; "p99 ÷ 5 s": against the target "image upload under 5 s for 10 MB"; "in media": mean time of a 201 in media; "gw wait": the gateway's mean wait on media (from forwarding to media's response headers)`,
        `   2. processing (ms): media_processing_duration_seconds from media's /metrics between the run's start and end (checking, decoding, re-encoding and three WebP thumbnails of one image): the mean exact (sum ÷ count), p50 and p99 interpolated in its buckets (…, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 s)`,
        ...uploadLines(figures).map((line) => `   ${line}`),
        `   processing of one image alone (1 client): ${images.map((image) => `${image.name} ${fmt(solo(image)?.processing.mean ?? NaN, 0)} ms`).join(', ')}; with more clients, its time includes the wait for a core and for one of libuv's 4 threads (sharp's work runs there)`,
        `   targets: p99 of a ${large.name} upload at ${fmt(most.clients)} clients ${fmt(most.times.p99 / 1000, 1)} s (target < ${fmt(TARGET_UPLOAD_P99_MS / 1000)} s: ratio ${fmt(most.times.p99 / TARGET_UPLOAD_P99_MS, 2)}); ${fmt(TARGET_CONCURRENT_UPLOADS)}+ concurrent uploads: media had up to ${fmt(most.peak.inFlight)} in flight at once, answers ${most.outcomes}`,
        `   503 overloaded (MEDIA_MAX_UPLOADS_IN_FLIGHT=${maxInFlight}) in all runs: ${fmt(figures.reduce((sum, f) => sum + f.overloaded, 0))}`,
      );
    }
    if (phases.has('download')) {
      const [small, large] = stored;
      const view = async (id: string) =>
        (await call(`${api}/media/${id}`, { token: env.users[0]!.token }, [200])).body as {
          sizes: Record<'original' | 'medium', { bytes: number }>;
        };
      const smallView = await view(small!.id);
      const largeView = await view(large!.id);
      report.push(
        ...(await benchDownloads(
          env,
          [
            { name: `original of ${small!.image.name}`, id: small!.id, size: 'original', bytes: smallView.sizes.original.bytes },
            { name: `original of ${large!.image.name}`, id: large!.id, size: 'original', bytes: largeView.sizes.original.bytes },
            { name: `512 thumbnail of ${large!.image.name}`, id: large!.id, size: 'medium', bytes: largeView.sizes.medium.bytes },
          ],
          downloadClients,
          downloadSeconds,
        )),
      );
      loads.push(`${loadavg()[0]!.toFixed(1)} after the downloads`);
    }
    if (phases.has('memory')) report.push(...(await benchMemory(env, images, held)));

    process.stdout.write(
      [
        '',
        `Media: uploads, processing, downloads and memory through the gateway, distributed mode (a process per service; PostgreSQL durable, Redis, Kafka 1 broker; media's images in versitygw, S3 on loopback), ${cpus().length} CPUs; load average ${[...loads, `${loadavg()[0]!.toFixed(1)} at the end`].join(', ')}; ${fmt((performance.now() - started) / 1000, 0)} s in all`,
        `  limits raised for the bench: gateway RATE_LIMIT_PER_USER, RATE_LIMIT_PER_IP and RATE_LIMIT_AUTH_PER_IP ${fmt(Number(RAISED_LIMIT))} per window, MEDIA_UPSTREAM_TIMEOUT_MS ${fmt(ANSWER_TIMEOUT_MS)} (10,000 by default); gateway and media HTTP_REQUEST_TIMEOUT_MS ${fmt(ANSWER_TIMEOUT_MS)} (30,000 by default), so the latencies are measured, not cut; media MEDIA_QUOTA_FILES ${fmt(Number(RAISED_QUOTA.MEDIA_QUOTA_FILES))}, MEDIA_QUOTA_BYTES ${fmt(Number(RAISED_QUOTA.MEDIA_QUOTA_BYTES))}, MEDIA_MAX_UPLOADS_IN_FLIGHT ${maxInFlight} (32 by default); auth's argon2id at 8 MiB (sign-ups are set-up); MEDIA_MAX_UPLOAD_BYTES stays 10 MiB`,
        ...report.map((line) => `  ${line}`),
        '',
      ].join('\n'),
    );
  } finally {
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
