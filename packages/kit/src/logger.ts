import { trace } from '@opentelemetry/api';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context.js';

export type { Logger } from 'pino';

/** Fields that must never reach a log line, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'new_password',
  '*.new_password',
  'current_password',
  '*.current_password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

export interface LoggerSettings {
  service: string;
  level?: string;
  destination?: pino.DestinationStream;
}

/**
 * pino JSON logger. Each line carries the service name and, where known, the request id, the
 * user id and the active trace and span ids, so a log line leads to its request and its trace.
 */
export const createLogger = ({ service, level = 'info', destination }: LoggerSettings): Logger => {
  const options: LoggerOptions = {
    level,
    base: { service },
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin() {
      const fields: Record<string, string> = {};
      const context = currentContext();
      if (context) {
        fields.request_id = context.requestId;
        if (context.userId) fields.user_id = context.userId;
      }
      const span = trace.getActiveSpan()?.spanContext();
      if (span && span.traceFlags !== undefined && span.traceId !== '00000000000000000000000000000000') {
        fields.trace_id = span.traceId;
        fields.span_id = span.spanId;
      }
      return fields;
    },
  };
  return destination ? pino(options, destination) : pino(options);
};
