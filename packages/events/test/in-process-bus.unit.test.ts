import { eventually } from '@galion/localdeps';
import { InProcessEventBus, type IncomingMessage } from '../src';

describe('InProcessEventBus', () => {
  it('when messages are published, then a subscriber receives them in order', async () => {
    const bus = new InProcessEventBus();
    const received: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topic: 't',
      handleBatch: async (batch) => {
        received.push(...batch.messages.map((message) => message.value!.toString()));
      },
    });
    await bus.publish('t', [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    await bus.publish('t', [{ key: 'a', value: '3' }]);
    await eventually(() => received.length === 3);
    expect(received).toEqual(['1', '2', '3']);
    await bus.close();
  });

  it('when the handler fails, then the same batch comes again and the offset does not move past it', async () => {
    const bus = new InProcessEventBus();
    const seen: string[][] = [];
    let failures = 2;
    const retries: number[] = [];
    await bus.subscribe({
      groupId: 'g',
      topic: 't',
      onRetry: (_error, attempt) => retries.push(attempt),
      handleBatch: async (batch) => {
        seen.push(batch.messages.map((message: IncomingMessage) => message.offset));
        if (failures > 0) {
          failures -= 1;
          throw new Error('database down');
        }
      },
    });
    await bus.publish('t', [{ key: 'k', value: 'x' }]);
    await eventually(() => seen.length === 3, 5_000);
    expect(seen).toEqual([['0'], ['0'], ['0']]);
    expect(retries).toEqual([1, 2]);
    await bus.close();
  });

  it('when two groups subscribe, then each gets every message', async () => {
    const bus = new InProcessEventBus();
    const counts = { a: 0, b: 0 };
    for (const group of ['a', 'b'] as const) {
      await bus.subscribe({
        groupId: group,
        topic: 't',
        handleBatch: async (batch) => {
          counts[group] += batch.messages.length;
        },
      });
    }
    await bus.publish('t', [
      { key: '1', value: 'x' },
      { key: '2', value: 'y' },
    ]);
    await eventually(() => counts.a === 2 && counts.b === 2);
    await bus.close();
  });
});
