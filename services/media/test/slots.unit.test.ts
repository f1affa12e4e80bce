import { Slots } from '../src/domain/slots';

/** A task that runs until `finish` is called, recording when it starts. */
const gatedTask = (started: string[], name: string) => {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { run: async () => (started.push(name), await done, name), finish: () => finish() };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the slots of sharp’s operations', () => {
  it('when more tasks come than there are slots, then the others wait, and start in the order they came as slots free up', async () => {
    const slots = new Slots(2);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => gatedTask(started, name));
    const results = tasks.map((task) => slots.run(task.run));
    await settle();
    expect(started).toEqual(['a', 'b']);

    tasks[1]!.finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);

    tasks[0]!.finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    tasks[2]!.finish();
    tasks[3]!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('when a task fails, then its slot is freed all the same and its error reaches its caller', async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error('broken image')))).rejects.toThrow('broken image');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});
