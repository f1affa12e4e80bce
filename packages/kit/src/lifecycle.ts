import { createServer, Server, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { DEFAULT_SERVER_SETTINGS, type CommonConfig, type ServerSettings } from './config.js';
import type { Health } from './health.js';
import type { Closers } from './kv.js';
import { createMetricsApp } from './metrics-endpoint.js';
import type { ServiceMetrics } from './metrics.js';
import { createLogger, type Logger } from './logger.js';

/**
 * A server listening on one port through several sockets: the others are closed with it, and
 * their connections with its own.
 */
class PortServer extends Server {
  readonly siblings: Server[] = [];

  override close(callback?: (error?: Error) => void): this {
    let pending = this.siblings.length + 1;
    let failure: Error | undefined;
    const closed = (error?: Error) => {
      failure ??= error;
      pending -= 1;
      if (pending === 0) callback?.(failure);
    };
    for (const sibling of this.siblings) sibling.close(closed);
    super.close(closed);
    return this;
  }

  override closeAllConnections(): void {
    for (const sibling of this.siblings) sibling.closeAllConnections();
    super.closeAllConnections();
  }

  override closeIdleConnections(): void {
    for (const sibling of this.siblings) sibling.closeIdleConnections();
    super.closeIdleConnections();
  }
}

const createConfiguredServer = <S extends Server>(make: (options: ServerOptions) => S, settings: ServerSettings): S => {
  const server = make({
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    // Node looks for connections past those deadlines this often; its default of 30 s would let a
    // slow client outstay a 10 s headers timeout threefold.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(settings.headersTimeoutMs / 4))),
  });
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  // No inactivity timeout on the socket (server.timeout stays 0): idle connections end with the
  // keep-alive timeout, slow senders with the two above, and a slow answer is bounded by whoever
  // waits for it (the gateway's UPSTREAM_TIMEOUT_MS), not cut here.
  return server;
};

const bind = (server: Server, port: number, host: string, reusePort: boolean): Promise<void> =>
  new Promise((resolve, reject) => {
    // A burst of connections waits in the kernel's queue (up to net.core.somaxconn) instead of
    // being reset; the default backlog is 511.
    server.listen({ port, host, backlog: 4_096, ...(reusePort ? { reusePort: true } : {}) });
    server.once('listening', () => resolve());
    server.once('error', reject);
  });

/**
 * Starts listening and resolves once the port is bound. Port 0 picks a free one. `settings` say
 * how many sockets listen and how long a client may take (config.ts `ServerSettings`); a client
 * past the timeouts gets 408 and is cut off.
 */
export const listen = async (app: Express, port: number, host = '0.0.0.0', settings: ServerSettings = DEFAULT_SERVER_SETTINGS): Promise<Server> => {
  const sockets = Math.max(1, settings.listenSockets);
  const server = createConfiguredServer((options) => new PortServer(options, app), settings);
  await bind(server, port, host, sockets > 1);
  const bound = (server.address() as AddressInfo).port;
  try {
    for (let i = 1; i < sockets; i += 1) {
      const sibling = createConfiguredServer((options) => createServer(options, app), settings);
      server.siblings.push(sibling);
      await bind(sibling, bound, host, true);
    }
  } catch (error) {
    server.close();
    throw error;
  }
  return server;
};

/**
 * From now on every answer ends its connection (`Connection: close`), while the server still
 * serves. Connections that stay idle are left for their client to close, not cut here: a cut races
 * with a request the client is sending on that connection at the same moment, and a request lost
 * that way (a POST, say) cannot safely be sent again. The gateway drops idle upstream connections
 * sooner than the drain delay lasts (UPSTREAM_IDLE_TIMEOUT_MS), so by the time `closeServer` cuts
 * what is idle, none of them is the gateway's.
 */
export const endKeepAlive = (server: Server): void => {
  const servers = server instanceof PortServer ? [server, ...server.siblings] : [server];
  const closeAfterAnswer = (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  for (const each of servers) each.prependListener('request', closeAfterAnswer);
};

export const serverUrl = (server: Server): string => {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
};

/** Stops accepting, lets in-flight requests finish, and cuts whatever is left at the deadline. */
export const closeServer = (server: Server, deadlineMs: number): Promise<void> =>
  new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });

export interface LifecycleOptions {
  logger: Logger;
  health: Health;
  /** Time in-flight work gets to finish after a stop signal. */
  shutdownTimeoutMs: number;
  /**
   * Time to keep serving (with readiness false) so load balancers stop sending first. Answers in
   * that time close their connections; idle ones are closed by their clients or at its end.
   */
  drainDelayMs?: number;
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT: readiness turns false and answers close their connections
 * for the drain delay, then new connections stop, in-flight requests finish within the deadline,
 * clients close in reverse order of opening, and the process exits 0.
 */
export class Lifecycle {
  private readonly servers: Server[] = [];
  private readonly closers: { name: string; close: () => Promise<unknown> }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  /** Registers something to close at shutdown; closed in reverse order of registration. */
  onShutdown(name: string, close: () => Promise<unknown>): this {
    this.closers.push({ name, close });
    return this;
  }

  addServer(server: Server): this {
    this.servers.push(server);
    return this;
  }

  handleSignals(): this {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        this.options.logger.info({ signal }, 'stop signal received, draining');
        void this.stop().then(() => (this.options.exit ?? process.exit)(0));
      });
    }
    return this;
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { logger, health, shutdownTimeoutMs, drainDelayMs = 0 } = this.options;
    health.startDraining();
    for (const server of this.servers) endKeepAlive(server);
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    await Promise.all(this.servers.map((server) => closeServer(server, shutdownTimeoutMs)));
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error, dependency: name }, 'closing a client failed during shutdown');
      }
    }
    logger.info('stopped');
  }
}

/** Runs a service's `main`: a bad configuration or a failed start stops the process with a clear message. */
export const runMain = (main: () => Promise<unknown>): void => {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${error instanceof Error && error.name === 'ConfigError' ? '' : 'start-up failed: '}${message}\n`);
    process.exit(1);
  });
};

/** What a service is once composed: its app and what must close when it stops. */
export interface ComposedService {
  app: Express;
  metrics: ServiceMetrics;
  health: Health;
  /** Clients and jobs to close at shutdown, in the order they were opened. */
  closers: Closers;
}

export interface ServeOptions {
  name: string;
  logger: Logger;
  port: number;
  host: string;
  metricsPort?: number | undefined;
  shutdownTimeoutMs: number;
  drainDelayMs: number;
  /** How the HTTP server listens and treats clients; by default `DEFAULT_SERVER_SETTINGS`. */
  server?: ServerSettings;
  handleSignals?: boolean;
}

/** Listens on the service port (and the metrics port, if separate) and wires graceful shutdown. */
export const serveService = async (service: ComposedService, options: ServeOptions): Promise<{ lifecycle: Lifecycle; url: string }> => {
  const lifecycle = new Lifecycle({
    logger: options.logger,
    health: service.health,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    drainDelayMs: options.drainDelayMs,
  });
  for (const closer of service.closers) lifecycle.onShutdown(closer.name, closer.close);
  const server = await listen(service.app, options.port, options.host, options.server);
  lifecycle.addServer(server);
  if (options.metricsPort !== undefined && options.metricsPort !== options.port) {
    // Scrapes come one at a time: one socket is enough.
    const metricsServer = { ...(options.server ?? DEFAULT_SERVER_SETTINGS), listenSockets: 1 };
    lifecycle.addServer(await listen(createMetricsApp(service.metrics), options.metricsPort, options.host, metricsServer));
  }
  if (options.handleSignals !== false) lifecycle.handleSignals();
  const url = serverUrl(server);
  options.logger.info({ url, metrics_port: options.metricsPort ?? options.port }, `${options.name} listening`);
  return { lifecycle, url };
};

/**
 * A service's whole `main`: configuration validated once (a bad value stops the process with a
 * message naming it), the service composed, served, and stopped gracefully on SIGTERM/SIGINT.
 */
export const runService = <C extends CommonConfig>(
  name: string,
  load: () => C,
  compose: (config: C, infra: { logger: Logger }) => Promise<ComposedService>,
  extraClosers: Closers = [],
): void =>
  runMain(async () => {
    const config = load();
    const logger = createLogger({ service: name, level: config.logLevel });
    const service = await compose(config, { logger });
    service.closers.push(...extraClosers);
    await serveService(service, {
      name,
      logger,
      port: config.port,
      host: config.host,
      metricsPort: config.metricsPort,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      drainDelayMs: config.drainDelayMs,
      server: config.server,
    });
  });
