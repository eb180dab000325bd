/**
 * `auto` picks the format from where the lines go: a terminal, systemd's journal (JOURNAL_STREAM
 * naming our output's device:inode) or anything else. The journal case uses a real file descriptor.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isJournalStream, resolveLogFormat } from '../../src/log/choose-format.js';
import { createLogger } from '../../src/log.js';

let dir: string;
let fd: number;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cb-log-'));
  file = path.join(dir, 'journal-stream');
  fd = openSync(file, 'w');
});
afterEach(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

/** What systemd would put in JOURNAL_STREAM for this descriptor. */
function journalStreamOf(descriptor: number): string {
  const stat = fstatSync(descriptor, { bigint: true });
  return `${stat.dev}:${stat.ino}`;
}

/** A destination like pino's own (SonicBoom): an fd and a synchronous write. */
const fdDestination = (descriptor: number) => ({
  fd: descriptor,
  write(text: string) {
    writeSync(descriptor, text);
    return true;
  },
});

describe('resolveLogFormat', () => {
  it('keeps an explicit format whatever the destination', () => {
    for (const format of ['pretty', 'json', 'journal'] as const) {
      expect(resolveLogFormat(format, { isTTY: true }, {})).toBe(format);
      expect(resolveLogFormat(format, {}, { JOURNAL_STREAM: journalStreamOf(fd) })).toBe(format);
    }
  });

  it('auto: pretty on a terminal, JSON on a pipe or file', () => {
    expect(resolveLogFormat('auto', { isTTY: true }, {})).toBe('pretty');
    expect(resolveLogFormat('auto', { isTTY: false }, {})).toBe('json');
    expect(resolveLogFormat('auto', { fd }, {})).toBe('json');
  });

  it('auto: journal when JOURNAL_STREAM names the file the destination writes to', () => {
    expect(resolveLogFormat('auto', { fd }, { JOURNAL_STREAM: journalStreamOf(fd) })).toBe('journal');
  });

  it('auto: an inherited JOURNAL_STREAM for another file, or a destination without fd, is not the journal', () => {
    const other = openSync(path.join(dir, 'other'), 'w');
    try {
      expect(isJournalStream({ fd }, { JOURNAL_STREAM: journalStreamOf(other) })).toBe(false);
    } finally {
      closeSync(other);
    }
    expect(isJournalStream({}, { JOURNAL_STREAM: journalStreamOf(fd) })).toBe(false);
    expect(isJournalStream({ fd }, { JOURNAL_STREAM: 'garbage' })).toBe(false);
    expect(isJournalStream({ fd: 987_654 }, { JOURNAL_STREAM: journalStreamOf(fd) })).toBe(false);
    expect(resolveLogFormat('auto', { isTTY: true }, { JOURNAL_STREAM: '1:2' })).toBe('pretty');
  });
});

describe('createLogger under systemd', () => {
  it('writes journal lines to a stdout that is the journal stream', () => {
    const log = createLogger({
      destination: fdDestination(fd) as unknown as NodeJS.WritableStream,
      env: { JOURNAL_STREAM: journalStreamOf(fd) },
    });
    log.child({ component: 'mqtt' }).warn({ broker: 'mqtt://localhost:1883' }, 'broker unreachable');
    expect(readFileSync(file, 'utf8')).toBe('<4>mqtt: broker unreachable broker=mqtt://localhost:1883\n');
  });
});
