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

/** A response not whole yet: the bytes it takes at least (all of it once its Content-Length is known). */
export interface Incomplete {
  needs: number;
}

/**
 * The complete response at the start of `buffer`, or what it still needs. The gateway answers
 * with a Content-Length (or chunks, for a streamed upstream answer).
 */
export const parseResponse = (buffer: Buffer): Response | Incomplete => {
  const more = { needs: buffer.length + 1 };
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return more;
  const head = buffer.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:[ \t]*close/i.test(head);
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    const size = end + 4 + Number(length);
    return buffer.length < size ? { needs: size } : { status, body: buffer.subarray(end + 4, size), size, close };
  }
  if (!/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) return { status, body: EMPTY, size: end + 4, close };
  const chunks: Buffer[] = [];
  let offset = end + 4;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) return more;
    const chunkSize = parseInt(buffer.toString('latin1', offset, lineEnd), 16);
    if (chunkSize === 0) {
      // The last chunk, no trailers: "0\r\n\r\n".
      return buffer.length < lineEnd + 4 ? { needs: lineEnd + 4 } : { status, body: Buffer.concat(chunks), size: lineEnd + 4, close };
    }
    if (buffer.length < lineEnd + 2 + chunkSize + 2) return { needs: lineEnd + 2 + chunkSize + 2 };
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

/** The `error` of a refusal's body (the platform's error shape), when it has one. */
export const errorCodeOf = (answer: Answer): string | undefined => {
  try {
    return (JSON.parse(answer.body?.toString('utf8') ?? '') as { error?: string }).error;
  } catch {
    // Not JSON: no code to show.
    return undefined;
  }
};

/** A GET of `target` on 127.0.0.1:`port`, with a bearer token when one is given. */
export const getRequest = (port: number, target: string, token?: string): string =>
  `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${token ? `authorization: Bearer ${token}\r\n` : ''}\r\n`;

/**
 * A keep-alive connection to 127.0.0.1: a bare socket speaking HTTP/1.1, one request at a time.
 * Far cheaper than node:http's client, so the load generator, which shares the machine with the
 * platform, adds as little of its own delay to the figures as it can.
 */
export class KeepAliveConnection {
  private readonly socket: Socket;
  private buffer: Buffer = EMPTY;
  /** Bytes received since the last parse, kept apart until the response can be whole: a body of megabytes is copied once, not once per chunk. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** What the response being read needs at least (parseResponse's `needs`). */
  private needs = 0;
  private error: string | undefined;
  /** Why the connection closed, once it has. */
  private closedBy: string | undefined;
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
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.buffer.length + this.pendingBytes < this.needs) return;
      this.buffer = this.buffer.length === 0 && this.pending.length === 1 ? chunk : Buffer.concat([this.buffer, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
      this.waiter?.data();
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => (this.error ??= error.code ?? error.message));
    this.socket.on('close', () => {
      this.dead = true;
      this.closedBy = this.error ?? 'closed by the server';
      this.waiter?.closed(this.closedBy);
    });
  }

  /**
   * Sends the start of a request (its head, part of its body) without waiting for an answer;
   * resolves once the bytes are handed to the kernel. `exchange` sends the rest.
   */
  sendPart(part: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(part, () => resolve()));
  }

  /**
   * Sends a whole request (head and body, or the rest of one begun with sendPart; in parts, so a
   * large body is written as it is, not copied) and resolves with what came of it; never rejects.
   * `started` is what `ms` counts from: now by default, or when the request was due (an open loop).
   */
  exchange(request: string | readonly (string | Buffer)[], started = performance.now()): Promise<Answer> {
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
          if ('needs' in response) {
            this.needs = response.needs;
            return;
          }
          this.needs = 0;
          this.buffer = this.buffer.subarray(response.size);
          if (response.close) {
            this.dead = true;
            this.socket.end();
          }
          finish({ status: response.status, body: response.body });
        },
        closed: (reason) => finish({ failure: reason }),
      };
      for (const part of typeof request === 'string' ? [request] : request) this.socket.write(part);
      // An answer that came before the request was whole (a refusal after its head), or the close that followed it.
      if (this.buffer.length > 0) this.waiter.data();
      if (this.closedBy !== undefined) this.waiter?.closed(this.closedBy);
    });
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }
}
