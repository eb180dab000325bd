/**
 * Structured logging with pino, written in the form that suits where it goes: readable coloured
 * lines on a terminal, `<priority>` lines for systemd's journal, one JSON object per line for
 * machines (src/log/). Secrets never reach a log line: the redact list covers every key name that
 * can carry a PIN, password or token anywhere in a logged object, whatever the format.
 */
import { type Logger, pino } from 'pino';
import type { LogFormat } from './config/schema.js';
import {
  type Destination,
  type ResolvedLogFormat,
  resolveLogFormat,
  useColour,
} from './log/choose-format.js';
import { dedupeChildBindings, renameTakenKeys } from './log/collisions.js';
import { routeConsoleTo } from './log/console-capture.js';
import { FormattingStream, type RecordFormatter } from './log/format-stream.js';
import { journalLine } from './log/journal.js';
import { prettyLine } from './log/pretty.js';

export { captureConsole, type RestoreConsole, releaseConsole } from './log/console-capture.js';
export type { Logger };

export const SECRET_KEYS = ['pin', 'password', 'token', 'authorizationKey', 'secret', 'passphrase'];

const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

/** pino's debug level: logged errors show their stack from here down. */
const DEBUG_LEVEL = 20;

export interface LogOptions {
  level?: string;
  /** `auto` (default): pretty on a terminal, journal under systemd, JSON otherwise. */
  format?: LogFormat;
  /** Where to write; defaults to stdout. Tests pass a stream to inspect lines. */
  destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal; defaults to its `isTTY` (tests fake one with this). */
  isTTY?: boolean;
  /** Read for CHARGEBRIDGE_LOG_LEVEL, NO_COLOR, FORCE_COLOR, TERM and JOURNAL_STREAM; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds since the epoch for the `time` field; tests fix it. */
  now?: () => number;
  /**
   * Route console.log/info/warn/error/debug through this logger (component `console`) until
   * releaseConsole() or the next logger created with this option. For the daemon only.
   */
  captureConsole?: boolean;
}

export function createLogger(options: LogOptions = {}): Logger {
  const env = options.env ?? process.env;
  const target = options.destination ?? process.stdout;
  const isTTY = options.isTTY ?? (target as { isTTY?: boolean }).isTTY === true;
  const format = resolveLogFormat(options.format ?? 'auto', target as Destination, env, isTTY);
  const now = options.now;
  // Assigned right below; the formatter reads the level at each line, since it changes at run time.
  let logger: Logger | undefined;
  const showStacks = () => (logger?.levelVal ?? Number.POSITIVE_INFINITY) <= DEBUG_LEVEL;
  const formatter = humanFormatter(format, useColour(env, isTTY), showStacks);
  logger = pino(
    {
      name: 'chargebridge',
      level: options.level ?? env.CHARGEBRIDGE_LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: undefined,
      timestamp: now ? () => `,"time":"${new Date(now()).toISOString()}"` : pino.stdTimeFunctions.isoTime,
      hooks: { logMethod: renameTakenKeys },
      onChild: dedupeChildBindings,
    },
    // JSON goes to the stream untouched: pino's fast path, no parsing.
    formatter ? new FormattingStream(target, formatter) : target,
  );
  if (options.captureConsole) routeConsoleTo(logger);
  return logger;
}

function humanFormatter(
  format: ResolvedLogFormat,
  colour: boolean,
  showStacks: () => boolean,
): RecordFormatter | undefined {
  if (format === 'pretty') return (record) => prettyLine(record, { colour, showStacks: showStacks() });
  if (format === 'journal') return (record) => journalLine(record, { showStacks: showStacks() });
  return undefined;
}

/** A logger that drops everything (tests and benchmarks that don't look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
