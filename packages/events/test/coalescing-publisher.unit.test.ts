import { CoalescingPublisher, PublishUnavailable } from '../src/coalescing-publisher';
import { InProcessEventBus } from '../src/in-process-bus';
import type { EventBus, OutgoingMessage } from '../src/bus';

/** The in-process bus, with each send recorded and, when asked, held or failed. */
const recordingBus = () => {
  const inner = new InProcessEventBus();
  const sends: number[] = [];
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  let failing = false;
  const bus: EventBus = Object.assign(Object.create(inner) as EventBus, {
    publish: async (topic: string, messages: OutgoingMessage[]) => {
      sends.push(messages.length);
      await gate;
      if (failing) throw new Error('broker down');
      await inner.publish(topic, messages);
    },
  });
  return {
    bus,
    sends,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    fail(value: boolean) {
      failing = value;
    },
  };
};

const messages = (n: number, tag: string): OutgoingMessage[] => Array.from({ length: n }, (_, i) => ({ key: tag, value: `${tag}-${i}` }));

describe('the coalescing publisher', () => {
  it('when callers arrive while a send is in flight, then the next send carries all of them, and each learns of its own acknowledgement', async () => {
    const recording = recordingBus();
    const publisher = new CoalescingPublisher(recording.bus, 't');
    recording.hold();
    const first = publisher.publish(messages(2, 'a'));
    const queued = [publisher.publish(messages(3, 'b')), publisher.publish(messages(4, 'c')), publisher.publish(messages(5, 'd'))];

    recording.release();
    await Promise.all([first, ...queued]);

    expect(recording.sends).toEqual([2, 12]);
  });

  it('when a send would exceed the message cap, then callers are split across sends, none split in two', async () => {
    const recording = recordingBus();
    const publisher = new CoalescingPublisher(recording.bus, 't', { maxMessages: 5 });
    recording.hold();
    const all = [publisher.publish(messages(1, 'a')), publisher.publish(messages(3, 'b')), publisher.publish(messages(3, 'c')), publisher.publish(messages(2, 'd'))];

    recording.release();
    await Promise.all(all);

    expect(recording.sends).toEqual([1, 3, 5]);
  });

  it('when the bus fails, then the callers of that send are told it is unavailable, and the next caller at once', async () => {
    const recording = recordingBus();
    let clock = 1_000;
    const publisher = new CoalescingPublisher(recording.bus, 't', { failFastMs: 1_000, now: () => clock });
    recording.fail(true);

    await expect(publisher.publish(messages(1, 'a'))).rejects.toBeInstanceOf(PublishUnavailable);
    await expect(publisher.publish(messages(1, 'b'))).rejects.toThrow(/failed moments ago/);
    expect(recording.sends).toEqual([1]);

    clock += 1_001;
    recording.fail(false);
    await expect(publisher.publish(messages(1, 'c'))).resolves.toBeUndefined();
    expect(recording.sends).toEqual([1, 1]);
  });

  it('when a caller’s time runs out while its messages still wait in the queue, then they are withdrawn and never sent', async () => {
    const recording = recordingBus();
    const publisher = new CoalescingPublisher(recording.bus, 't', { timeoutMs: 50, failFastMs: 0 });
    recording.hold();
    const inFlight = publisher.publish(messages(1, 'a'));
    const waiting = publisher.publish(messages(7, 'b'));

    await expect(waiting).rejects.toBeInstanceOf(PublishUnavailable);
    await expect(inFlight).rejects.toBeInstanceOf(PublishUnavailable);
    recording.release();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(recording.sends).toEqual([1]);
  });
});
