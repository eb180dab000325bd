/**
 * A pino JSON line read back for the human formats (pretty, journal): level, time, component and
 * message apart, the remaining fields rendered as `key=value`.
 */

export interface LogRecord {
  level: number;
  /** ISO time as pino wrote it; absent when the logger was made without timestamps. */
  time: string | undefined;
  component: string | undefined;
  msg: string;
  /** The other fields in logged order, each value already rendered for `key=value`. */
  fields: Array<[key: string, value: string]>;
  /** Stack traces of logged errors (printed at debug only). */
  stacks: string[];
}

/** Keys shown in their own place, not as `key=value`; `name` is always chargebridge. */
const PLACED = new Set(['level', 'time', 'msg', 'name', 'component']);

export function readRecord(line: string): LogRecord {
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('not a log record');
  }
  const obj = parsed as Record<string, unknown>;
  const fields: Array<[string, string]> = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (PLACED.has(key)) continue;
    if (isSerializedError(value)) {
      fields.push([key, renderValue(value.message)]);
      if (typeof value.stack === 'string') stacks.push(value.stack);
    } else {
      fields.push([key, renderValue(value)]);
    }
  }
  return {
    level: typeof obj.level === 'number' ? obj.level : 30,
    time: typeof obj.time === 'string' ? obj.time : undefined,
    component: typeof obj.component === 'string' ? obj.component : undefined,
    msg: obj.msg === undefined ? '' : typeof obj.msg === 'string' ? obj.msg : JSON.stringify(obj.msg),
    fields,
    stacks,
  };
}

/** Bare when it reads unambiguously; quoted (JSON) when it has spaces, quotes, `=` or is empty. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=\\\p{Cc}]+$/u.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/** pino's err serializer output: { type, message, stack, …own properties }. */
function isSerializedError(value: unknown): value is { message: string; stack?: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === 'string' && typeof v.message === 'string' && typeof v.stack === 'string';
}

export const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? `level${level}`;
}
