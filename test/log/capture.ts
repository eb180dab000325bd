/** A synchronous destination for loggers under test: every write lands at once, nothing buffered. */
import { Writable } from 'node:stream';

export interface CapturedOutput {
  readonly stream: Writable;
  text(): string;
  lines(): string[];
}

export function captureOutput(): CapturedOutput {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    stream,
    text: () => text,
    lines: () => text.split('\n').filter((line) => line !== ''),
  };
}

/** 2026-06-01 16:04:05.007 UTC: tests pin TZ to UTC, so the pretty time reads 16:04:05.007. */
export const FIXED_NOW = Date.UTC(2026, 5, 1, 16, 4, 5, 7);
