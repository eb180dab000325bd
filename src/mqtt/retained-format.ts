/**
 * The on-disk format of the embedded broker's retained messages:
 *
 * - snapshot (`mqtt-retained.json`): one JSON document with every message,
 *   `{"format":"chargebridge-retained","version":2,"generation":7,"messages":[{"topic","qos","payloadBase64"}]}`.
 *   Version 1 (before the journal existed) is the same without `generation`.
 * - journal (`mqtt-retained.journal`): JSON Lines; a header `{"format":"chargebridge-retained-journal",
 *   "version":1,"generation":7}`, then one change per line, `{"set":topic,"qos":1,"payloadBase64":"…"}`
 *   or `{"delete":topic}`. It applies on top of the snapshot with the same generation only.
 *
 * Parsing keeps every entry it can read and says what it could not, so a damaged file loses only
 * the damaged entries.
 */
import { z } from 'zod';

export type QoS = 0 | 1 | 2;

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
}

/** A change: a message to keep, or a topic to forget. */
export type JournalEntry = RetainedMessage | { topic: string; deleted: true };

const SNAPSHOT_FORMAT = 'chargebridge-retained';
const JOURNAL_FORMAT = 'chargebridge-retained-journal';

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const snapshotRoot = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.union([z.literal(1), z.literal(2)]),
  generation: z.number().int().nonnegative().optional(),
  messages: z.array(z.unknown()),
});
const snapshotMessage = z.object({ topic: z.string().min(1), qos, payloadBase64: z.base64() });
const journalHeader = z.object({
  format: z.literal(JOURNAL_FORMAT),
  version: z.literal(1),
  generation: z.number().int().nonnegative(),
});
const journalLine = z.union([
  z.object({ set: z.string().min(1), qos, payloadBase64: z.base64() }),
  z.object({ delete: z.string().min(1) }),
]);

export interface ParsedSnapshot {
  /** Undefined for a version 1 file (written before the journal existed). */
  generation: number | undefined;
  messages: RetainedMessage[];
  /** What could not be read; the messages are what could. */
  problem?: string;
}

export function parseSnapshot(text: string): ParsedSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { generation: undefined, messages: [], problem: `not JSON: ${(err as Error).message}` };
  }
  const root = snapshotRoot.safeParse(json);
  if (!root.success) return { generation: undefined, messages: [], problem: describe(root.error) };
  const { version, generation, messages: raw } = root.data;
  if (version === 2 && generation === undefined) {
    return { generation: undefined, messages: [], problem: 'unexpected content at generation: missing' };
  }
  const messages: RetainedMessage[] = [];
  const bad: string[] = [];
  raw.forEach((entry, i) => {
    const m = snapshotMessage.safeParse(entry);
    if (m.success)
      messages.push({ topic: m.data.topic, qos: m.data.qos, payload: decode(m.data.payloadBase64) });
    else bad.push(`messages.${i}: ${describe(m.error)}`);
  });
  return {
    generation: version === 1 ? undefined : generation,
    messages,
    ...(bad.length > 0 ? { problem: `${bad.length} unreadable message(s), first ${bad[0]}` } : {}),
  };
}

export function serializeSnapshot(generation: number, messages: Iterable<RetainedMessage>): string {
  const parts: string[] = [];
  for (const m of messages) {
    parts.push(JSON.stringify({ topic: m.topic, qos: m.qos, payloadBase64: m.payload.toString('base64') }));
  }
  return `{"format":"${SNAPSHOT_FORMAT}","version":2,"generation":${generation},"messages":[${parts.join(',')}]}`;
}

export interface ParsedJournal {
  /** Undefined when the header cannot be read. */
  generation: number | undefined;
  entries: JournalEntry[];
  /** The last line was cut short (the process died mid-append): ignored. */
  tornTail: boolean;
  /** Damage beyond a torn last line; the entries are what could be read. */
  problem?: string;
}

export function parseJournal(text: string): ParsedJournal {
  const lines = text.split('\n');
  // Every line is written with its newline in one write: text after the last newline was cut short,
  // unless it still reads as a whole line (only the newline is missing).
  const tail = lines.pop() ?? '';
  let tornTail = false;
  if (tail !== '') {
    if (journalLine.safeParse(tryJson(tail)).success) lines.push(tail);
    else tornTail = true;
  }
  const header = journalHeader.safeParse(tryJson(lines[0] ?? ''));
  const generation = header.success ? header.data.generation : undefined;
  const entries: JournalEntry[] = [];
  const bad: number[] = [];
  for (let i = header.success ? 1 : 0; i < lines.length; i++) {
    const parsed = journalLine.safeParse(tryJson(lines[i] ?? ''));
    if (!parsed.success) {
      bad.push(i + 1);
      continue;
    }
    const line = parsed.data;
    if ('set' in line) entries.push({ topic: line.set, qos: line.qos, payload: decode(line.payloadBase64) });
    else entries.push({ topic: line.delete, deleted: true });
  }
  const problems: string[] = [];
  if (!header.success) problems.push('no journal header on line 1');
  if (bad.length > 0) problems.push(`${bad.length} unreadable line(s), first line ${bad[0]}`);
  return { generation, entries, tornTail, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
}

export function journalHeaderLine(generation: number): string {
  return `${JSON.stringify({ format: JOURNAL_FORMAT, version: 1, generation })}\n`;
}

export function journalEntryLine(entry: JournalEntry): string {
  const line =
    'deleted' in entry
      ? { delete: entry.topic }
      : { set: entry.topic, qos: entry.qos, payloadBase64: entry.payload.toString('base64') };
  return `${JSON.stringify(line)}\n`;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decode(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return `unexpected content at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
}
