import { connect, type Socket } from 'node:net';

const EMPTY: Buffer = Buffer.alloc(0);

export interface Response {
  status: number;
  body: Buffer;
  /** Bytes of the buffer the response took. */
  size: number;
  /** The server said Connection: close. */
  close: boolean;
}

/**
 * The complete response at the start of `buffer`, or undefined while bytes are missing. The
 * gateway answers with a Content-Length (or chunks, for a streamed upstream answer).
 */
export const parseResponse = (buffer: Buffer): Response | undefined => {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buffer.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:[ \t]*close/i.test(head);
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    const size = end + 4 + Number(length);
    return buffer.length < size ? undefined : { status, body: buffer.subarray(end + 4, size), size, close };
  }
  if (!/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) return { status, body: EMPTY, size: end + 4, close };
  const chunks: Buffer[] = [];
  let offset = end + 4;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const chunkSize = parseInt(buffer.toString('latin1', offset, lineEnd), 16);
    if (chunkSize === 0) {
      // The last chunk, no trailers: "0\r\n\r\n".
      return buffer.length < lineEnd + 4 ? undefined : { status, body: Buffer.concat(chunks), size: lineEnd + 4, close };
    }
    if (buffer.length < lineEnd + 2 + chunkSize + 2) return undefined;
    chunks.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + chunkSize));
    offset = lineEnd + 2 + chunkSize + 2;
  }
};

/** What one request on a keep-alive connection came to: an answer, or why there was none. */
export interface Answer {
  /** From `started` (see exchange) until the answer, the failure or the timeout. */
  ms: number;
  status?: number;
  body?: Buffer;
  /** No answer: a connection error (ECONNRESET, ECONNREFUSED, ...), `closed by the server`, or `timeout`. */
  failure?: string;
  /** No answer within the connection's timeout (`failure` is `timeout`). */
  timedOut?: boolean;
}

/**
 * A keep-alive connection to 127.0.0.1: a bare socket speaking HTTP/1.1, one request at a time.
 * Far cheaper than node:http's client, so the load generator, which shares the machine with the
 * platform, adds as little of its own delay to the figures as it can.
 */
export class KeepAliveConnection {
  private readonly socket: Socket;
  private buffer: Buffer = EMPTY;
  private error: string | undefined;
  private waiter: { data: () => void; closed: (reason: string) => void } | undefined;
  /** No further request may use it: closed, cut after a timeout, or the server said close. */
  dead = false;
  /** A request is on its way and not answered yet. */
  busy = false;
  /** The TCP connection is established. */
  connected = false;

  /** Past `answerTimeoutMs` a request counts as unanswered and the connection is cut (so the caller opens another). */
  constructor(
    port: number,
    private readonly answerTimeoutMs: number,
  ) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.once('connect', () => (this.connected = true));
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.waiter?.data();
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => (this.error ??= error.code ?? error.message));
    this.socket.on('close', () => {
      this.dead = true;
      this.waiter?.closed(this.error ?? 'closed by the server');
    });
  }

  /**
   * Sends a whole request (head and body) and resolves with what came of it; never rejects.
   * `started` is what `ms` counts from: now by default, or when the request was due (an open loop).
   */
  exchange(request: string, started = performance.now()): Promise<Answer> {
    this.busy = true;
    return new Promise((resolve) => {
      const finish = (answer: Omit<Answer, 'ms'>) => {
        this.waiter = undefined;
        this.busy = false;
        clearTimeout(timer);
        resolve({ ...answer, ms: performance.now() - started });
      };
      const timer = setTimeout(() => {
        this.dead = true;
        finish({ failure: 'timeout', timedOut: true });
        this.socket.destroy();
      }, this.answerTimeoutMs);
      this.waiter = {
        data: () => {
          const response = parseResponse(this.buffer);
          if (!response) return;
          this.buffer = this.buffer.subarray(response.size);
          if (response.close) {
            this.dead = true;
            this.socket.end();
          }
          finish({ status: response.status, body: response.body });
        },
        closed: (reason) => finish({ failure: reason }),
      };
      this.socket.write(request);
    });
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }
}
