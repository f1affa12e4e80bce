/**
 * At most `size` tasks at once; the others wait their turn, first come first served. Used for
 * sharp's operations, which run on libuv's thread pool: queued there, every one of them would be
 * ahead of the uploads' file reads and writes, which run on the same pool.
 */
export class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.size) this.running += 1;
    // Handed over by the task that ends (`running` stays the same).
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
