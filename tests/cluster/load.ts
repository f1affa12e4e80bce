/**
 * A bounded load through the Ingress: a few keep-alive HTTPS clients to the node's address, each
 * sending one request after another until told to stop or until the time or request limit is
 * reached. Every answer and every connection error is counted, so a test can say "no request failed".
 */
import { Agent, request } from 'node:https';

export interface IngressTarget {
  host: string;
  port: number;
  servername: string;
  ca: string;
}

export interface LoadRequest {
  method: string;
  path: string;
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with its type (an image upload). */
  raw?: { type: string; bytes: Buffer };
}

export interface LoadResult {
  sent: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** Requests that got no answer (reset, refused, timed out), by error code. */
  errors: Record<string, number>;
  /** Requests that failed: 5xx answers plus errors. */
  failed: number;
  /** When each failed request was answered (epoch ms) and how (status and error, or error code, then the request); the first 1,000. */
  failures: { at: number; what: string }[];
  durationMs: number;
}

export interface RunningLoad {
  stop(): Promise<LoadResult>;
  /** Requests sent so far. */
  sent(): number;
}

export interface Reply {
  status: number;
  /** The answer as JSON (`{ text }` when it is not JSON). */
  body: Record<string, unknown>;
  /** The answer's bytes as received (an image download). */
  bytes: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** One request through the Ingress: TLS to the node's port, SNI and Host the public name, trusting only the given CA. */
export const requestThroughIngress = (target: IngressTarget, req: LoadRequest, agent?: Agent): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const payload = req.raw?.bytes ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
    const type = req.raw?.type ?? 'application/json';
    const r = request(
      {
        host: target.host,
        port: target.port,
        servername: target.servername,
        ca: target.ca,
        agent,
        method: req.method,
        path: req.path,
        timeout: 10_000,
        headers: {
          host: target.servername,
          ...(payload ? { 'content-type': type, 'content-length': Buffer.byteLength(payload) } : {}),
          ...(req.token ? { authorization: `Bearer ${req.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, body, bytes, headers: res.headers });
        });
      },
    );
    r.on('timeout', () => r.destroy(Object.assign(new Error(`${req.method} ${req.path} timed out`), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    r.end(payload);
  });

/**
 * Starts `clients` loops, each sending `next(i)` requests one after another (`pauseMs` apart), for at
 * most `maxMs` and `maxRequests` in all (bounded in time and count, whatever the test does).
 */
export const startLoad = (
  target: IngressTarget,
  options: { clients: number; maxMs: number; maxRequests: number; next: (n: number) => LoadRequest; pauseMs?: number },
): RunningLoad => {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const failures: LoadResult['failures'] = [];
  const noteFailure = (what: string) => {
    if (failures.length < 1000) failures.push({ at: Date.now(), what });
  };
  const started = Date.now();
  let sent = 0;
  let stopping = false;
  const loop = async (): Promise<void> => {
    while (!stopping && sent < options.maxRequests && Date.now() - started < options.maxMs) {
      const n = sent++;
      const req = options.next(n);
      try {
        const { status, body } = await requestThroughIngress(target, req, agent);
        statuses[status] = (statuses[status] ?? 0) + 1;
        // Who answered: the gateway names its error (upstream_error), the Ingress answers in text.
        if (status >= 500) noteFailure(`${status} ${String(body.error ?? body.text ?? '').slice(0, 60)} ${req.method} ${req.path}`);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        errors[code] = (errors[code] ?? 0) + 1;
        noteFailure(`${code} ${req.method} ${req.path}`);
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const loops = Array.from({ length: options.clients }, () => loop());
  const stop = async (): Promise<LoadResult> => {
    stopping = true;
    await Promise.all(loops);
    agent.destroy();
    const fiveXx = Object.entries(statuses)
      .filter(([status]) => Number(status) >= 500)
      .reduce((sum, [, count]) => sum + count, 0);
    const errorCount = Object.values(errors).reduce((sum, count) => sum + count, 0);
    return { sent, statuses, errors, failed: fiveXx + errorCount, failures, durationMs: Date.now() - started };
  };
  return { stop, sent: () => sent };
};
