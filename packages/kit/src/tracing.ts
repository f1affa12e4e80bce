/**
 * OpenTelemetry start-up. Import this module first in a service's main, before anything that
 * should be instrumented (http, express, pg, knex, ioredis, kafkajs). It does nothing unless an
 * OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 * Sampling, service name and resource attributes follow the standard OTEL_* variables.
 */
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';

let sdk: NodeSDK | undefined;

const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

if (endpoint && process.env.OTEL_SDK_DISABLED !== 'true') {
  // Only traces go to the collector: metrics are scraped by Prometheus, logs go to stdout.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const ratio = Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  sdk = new NodeSDK({
    traceExporter: new OTLPTraceExporter(),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? ratio : 1) }),
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        // Galion makes its own publish/process spans, parented through the outbox (packages/events);
        // the kafkajs instrumentation would overwrite their traceparent headers with unrelated spans.
        '@opentelemetry/instrumentation-kafkajs': { enabled: false },
        // Request handlers and routers make the spans worth reading; one span per middleware is noise.
        '@opentelemetry/instrumentation-express': { ignoreLayersType: [ExpressLayerType.MIDDLEWARE] },
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (request) => ['/livez', '/readyz', '/metrics'].includes(request.url ?? ''),
        },
      }),
    ],
  });
  sdk.start();
}

export const tracingEnabled = (): boolean => sdk !== undefined;

/** Flushes and stops the exporter; part of graceful shutdown. */
export const shutdownTracing = async (): Promise<void> => {
  await sdk?.shutdown();
};
