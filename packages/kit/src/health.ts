export type HealthCheck = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

const CHECK_TIMEOUT_MS = 2_000;

const withTimeout = async (check: HealthCheck, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Readiness of a process: every dependency check passes and the process is not draining.
 * Liveness is only "the event loop answers", so a dependency outage never restarts pods.
 */
export class Health {
  private readonly checks = new Map<string, HealthCheck>();
  private draining = false;

  addCheck(name: string, check: HealthCheck): this {
    this.checks.set(name, check);
    return this;
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async readiness(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await withTimeout(check, CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, `failing: ${error instanceof Error ? error.message : String(error)}`] as const;
        }
      }),
    );
    const checks: Record<string, string> = Object.fromEntries(entries);
    if (this.draining) checks.shutdown = 'failing: draining';
    return { ready: Object.values(checks).every((status) => status === 'ok'), checks };
  }
}
