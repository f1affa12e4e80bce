import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { eventually } from '@galion/localdeps';
import { appendToOutbox, createEvent, InProcessEventBus, OutboxRelay, startEventConsumer } from '../src';
import { outboxDatabase, silentLogger } from './helpers';

// A real OpenTelemetry SDK recording in memory, registered the way the service start-up does.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

describe('trace context through the outbox and the bus', () => {
  it('when a request writes an event, then publish, process and the consumer’s work are one trace, correctly parented', async () => {
    const db = await outboxDatabase();
    const bus = new InProcessEventBus();
    const relay = new OutboxRelay({ knex: db.knex, bus, logger: silentLogger, topic: 'user-events', pollIntervalMs: 10 });
    let handled = false;
    const tracer = trace.getTracer('test');
    try {
      await startEventConsumer({
        bus,
        groupId: 'analytics',
        logger: silentLogger,
        handle: async () => {
          tracer.startSpan('INSERT user_events').end();
          handled = true;
        },
      });
      const request = tracer.startSpan('POST /api/v1/auth/register');
      await context.with(trace.setSpan(context.active(), request), async () => {
        const event = createEvent('user.registered', { source: 'auth', subject: 'u1', data: { email: 'a@example.com', name: 'A', role: 'user' } });
        expect(event.traceparent).toContain(request.spanContext().traceId);
        await db.knex.transaction((trx) => appendToOutbox(trx, event));
      });
      request.end();
      relay.start();
      await eventually(() => handled && exporter.getFinishedSpans().some((span) => span.name === 'user-events process'), 10_000, 'the event to be handled');

      const spans = exporter.getFinishedSpans();
      const byName = (name: string) => spans.find((span) => span.name === name)!;
      const publish = byName('user-events publish');
      const processing = byName('user-events process');
      const insert = byName('INSERT user_events');
      const traceId = request.spanContext().traceId;
      expect([publish, processing, insert].map((span) => span.spanContext().traceId)).toEqual([traceId, traceId, traceId]);
      expect(publish.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(processing.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(insert.parentSpanContext?.spanId).toBe(processing.spanContext().spanId);
      expect(processing.attributes['messaging.consumer.group.name']).toBe('analytics');
    } finally {
      await relay.stop();
      await bus.close();
      await db.close();
    }
  });
});
