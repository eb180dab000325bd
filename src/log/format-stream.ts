/**
 * A pino destination that turns each JSON line into a human format before writing it on. Only the
 * pretty and journal formats go through here; JSON goes to the real stream untouched (pino's fast path).
 */
import { type LogRecord, readRecord } from './record.js';

export type RecordFormatter = (record: LogRecord) => string;

export class FormattingStream {
  constructor(
    private readonly target: NodeJS.WritableStream,
    private readonly format: RecordFormatter,
  ) {}

  /** pino writes exactly one newline-terminated JSON line per call. */
  write(line: string): boolean {
    let out: string;
    try {
      out = this.format(readRecord(line));
    } catch {
      // Logging must never take the daemon down: a line we cannot format is written as it is.
      out = line;
    }
    return this.target.write(out);
  }
}
