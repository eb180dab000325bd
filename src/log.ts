/**
 * Structured logging with pino. Secrets never reach a log line: the redact list covers every key
 * name that can carry a PIN, password or token anywhere in a logged object.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export const SECRET_KEYS = ['pin', 'password', 'token', 'authorizationKey', 'secret', 'passphrase'];

const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export interface LogOptions {
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to inspect lines. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      name: 'chargebridge',
      level: options.level ?? process.env.CHARGEBRIDGE_LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that drops everything (tests and benchmarks that don't look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
