import { KeepAliveConnection, type Answer } from './keep-alive.js';
import { tally } from './load.js';

/** One request's outcome in a load run. */
export interface Probe {
  kind: string;
  ms: number;
  status?: number;
  failure?: string;
}

/** A client of a closed loop: what it sends next (whole, or in parts), and what it learns from the answer. */
export interface LoopClient {
  next(): { request: string | readonly (string | Buffer)[]; kind: string };
  answered?(answer: Answer): void;
}

/**
 * Each client, on a keep-alive connection of its own to 127.0.0.1:`port`, sends its next request as
 * soon as the last is answered, for `seconds` (each sends at least one; the run ends with the last
 * answer). An answer not back within `answerTimeoutMs` is a timeout, and the client reconnects.
 */
export const closedLoop = async (
  port: number,
  clients: LoopClient[],
  seconds: number,
  answerTimeoutMs: number,
): Promise<{ probes: Probe[]; seconds: number }> => {
  const probes: Probe[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    clients.map(async (client) => {
      let connection = new KeepAliveConnection(port, answerTimeoutMs);
      while (performance.now() < deadline) {
        if (connection.dead) connection = new KeepAliveConnection(port, answerTimeoutMs);
        const { request, kind } = client.next();
        const answer = await connection.exchange(request);
        probes.push({ kind, ms: answer.ms, status: answer.status, failure: answer.failure });
        client.answered?.(answer);
      }
      connection.close();
    }),
  );
  return { probes, seconds: (performance.now() - started) / 1000 };
};

export const statusesOf = (probes: Probe[]): string => tally(probes.map((probe) => probe.failure ?? String(probe.status)));
