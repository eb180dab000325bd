/**
 * Keeps the embedded broker's retained messages on disk so discovery configs and last states survive
 * a restart. Writes are debounced and durable (temp file + fsync + rename); a file we cannot read is
 * moved aside for inspection, never deleted.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { moveAside, writeFileDurably } from '../core/durable-file.js';
import type { Logger } from '../log.js';

export type QoS = 0 | 1 | 2;

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
}

const FORMAT = 'chargebridge-retained';

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  messages: z.array(
    z.object({
      topic: z.string().min(1),
      qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
      payloadBase64: z.base64(),
    }),
  ),
});

export interface RetainedFileOptions {
  path: string;
  logger: Logger;
  clock?: Clock;
  /** Coalesce bursts (a discovery re-publish touches dozens of topics) into one write. */
  debounceMs?: number;
}

export class RetainedFile {
  private readonly path: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly messages = new Map<string, RetainedMessage>();
  private timer: TimerHandle | undefined;
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(options: RetainedFileOptions) {
    this.path = options.path;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    // Live states are retained and change every second while charging: writing the whole file that
    // often wears an SD card (and at 1,000 OCPP stations it is ~25 MB). Once a minute is enough, since
    // the daemon re-publishes its own topics at start; a clean stop writes the rest.
    this.debounceMs = options.debounceMs ?? 60_000;
  }

  /** Read the file. Missing → empty; unreadable → moved to `<file>.corrupt-<timestamp>` and empty. */
  async load(): Promise<RetainedMessage[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      // Node's message (e.g. EISDIR) does not say which file: the user needs the path to fix it.
      throw new Error(
        `cannot read the retained message file ${this.path}: ${(err as Error).message} (mqtt.embedded_broker.persist_retained)`,
        { cause: err },
      );
    }
    const parsed = parseFile(text);
    if (typeof parsed === 'string') {
      const aside = await moveAside(this.path, this.clock.now());
      this.logger.error(
        { file: this.path, movedTo: aside, reason: parsed },
        'retained message file is unreadable; moved it aside and starting with no retained messages',
      );
      return [];
    }
    this.messages.clear();
    for (const m of parsed) this.messages.set(m.topic, m);
    return [...this.messages.values()];
  }

  /** Record a retained publish; an empty payload clears the topic, as in MQTT. */
  set(message: RetainedMessage): void {
    if (message.payload.length === 0) {
      if (!this.messages.delete(message.topic)) return;
    } else {
      const old = this.messages.get(message.topic);
      if (old && old.qos === message.qos && old.payload.equals(message.payload)) return;
      this.messages.set(message.topic, { ...message, payload: Buffer.from(message.payload) });
    }
    this.dirty = true;
    if (!this.timer) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.debounceMs);
    }
  }

  size(): number {
    return this.messages.size;
  }

  /** Write now if anything changed. Never throws: a failed write is logged and retried next time. */
  async flush(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    const body = serialize([...this.messages.values()]);
    this.writing = writeFileDurably(this.path, body)
      .catch((err: unknown) => {
        this.dirty = true;
        this.logger.error({ file: this.path, err }, 'could not write retained message file');
      })
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }
}

function parseFile(text: string): RetainedMessage[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return `unexpected content at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
  }
  return result.data.messages.map((m) => ({
    topic: m.topic,
    qos: m.qos,
    payload: Buffer.from(m.payloadBase64, 'base64'),
  }));
}

function serialize(messages: RetainedMessage[]): string {
  return JSON.stringify({
    format: FORMAT,
    version: 1,
    messages: messages.map((m) => ({
      topic: m.topic,
      qos: m.qos,
      payloadBase64: m.payload.toString('base64'),
    })),
  });
}
