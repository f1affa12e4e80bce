import { createServer } from 'node:net';

// Ports already handed out by this process: the OS may offer a just-closed port again, and servers
// started in parallel must not get the same one.
const handedOut = new Set<number>();

const askOsForPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/** A TCP port on 127.0.0.1 that is free now (another process could still take it before it is used). */
export const freePort = async (): Promise<number> => {
  for (;;) {
    const port = await askOsForPort();
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
};
