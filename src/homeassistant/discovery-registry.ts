/**
 * Remembers, across restarts, which discovery configs this instance published (device id → topic and
 * component platforms), so a charger removed from the configuration can be removed from Home
 * Assistant too, and a component a charger lost can get its tombstone. A removal stays here until a
 * Home Assistant is known to have received it (the embedded broker keeps no empty retained message for
 * one that was away). Written durably (temp file + fsync + rename); an unreadable file is moved aside,
 * never deleted.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { asidePath, writeFileDurably } from '../core/durable-file.js';
import type { Logger } from '../log.js';

export const REGISTRY_FILE_NAME = 'homeassistant-discovery.json';

export interface RegisteredDevice {
  /** The discovery topic it was published on (the prefix may change between runs). */
  topic: string;
  /** Component key → platform (`p`), enough to build a tombstone. */
  components: Record<string, string>;
  /** The device's name in Home Assistant, for the log line of its removal. */
  name?: string;
  /** Retained topics of the device besides discovery (state, availability), cleared on removal. */
  retained?: string[];
  /** Gone from the configuration: its removal is re-sent until Home Assistant has received it. */
  pendingRemoval?: boolean;
}

const FORMAT = 'chargebridge-discovery';

const fileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  devices: z.record(
    z.string().min(1),
    z.object({
      topic: z.string().min(1),
      components: z.record(z.string(), z.string()),
      name: z.string().optional(),
      retained: z.array(z.string().min(1)).optional(),
      pendingRemoval: z.boolean().optional(),
    }),
  ),
});

export interface DiscoveryRegistryOptions {
  /** Directory for the registry file; created when missing. */
  dataDir: string;
  logger: Logger;
  /** For the name of a moved-aside unreadable file. */
  now?: () => number;
}

export class DiscoveryRegistry {
  readonly path: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly entries = new Map<string, RegisteredDevice>();
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(options: DiscoveryRegistryOptions) {
    this.path = join(options.dataDir, REGISTRY_FILE_NAME);
    this.log = options.logger;
    this.now = options.now ?? Date.now;
  }

  /** Read the file. Missing → empty. Unreadable → moved to `<file>.corrupt-<time>`, empty. Never throws. */
  async load(): Promise<void> {
    this.entries.clear();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn(
          { file: this.path, err: errorText(err) },
          'cannot read the discovery registry; stale Home Assistant devices will not be cleaned up this time',
        );
      }
      return;
    }
    const parsed = parse(text);
    if (typeof parsed === 'string') {
      const aside = asidePath(this.path, this.now());
      try {
        await rename(this.path, aside);
      } catch {
        // Moving it aside is a courtesy; the next write replaces it anyway.
      }
      this.log.warn(
        { file: this.path, movedTo: aside, reason: parsed },
        'discovery registry is unreadable; moved it aside and starting empty',
      );
      return;
    }
    for (const [id, device] of Object.entries(parsed)) this.entries.set(id, device);
  }

  devices(): ReadonlyMap<string, RegisteredDevice> {
    return this.entries;
  }

  get(deviceId: string): RegisteredDevice | undefined {
    return this.entries.get(deviceId);
  }

  /** Record a published device; writes the file in the background when something changed. */
  set(deviceId: string, device: RegisteredDevice): void {
    const old = this.entries.get(deviceId);
    if (old && sameDevice(old, device)) return;
    this.entries.set(deviceId, copyOf(device));
    this.markDirty();
  }

  /** Keep the device only as a removal still to be delivered to Home Assistant. */
  markRemoved(deviceId: string): void {
    const device = this.entries.get(deviceId);
    if (!device || device.pendingRemoval) return;
    this.entries.set(deviceId, { ...copyOf(device), pendingRemoval: true });
    this.markDirty();
  }

  delete(deviceId: string): void {
    if (this.entries.delete(deviceId)) this.markDirty();
  }

  /** Wait until everything recorded so far is on disk (or its write failed and was logged). */
  async flush(): Promise<void> {
    while (this.writing || this.dirty) {
      if (!this.writing) this.startWrite();
      await this.writing;
    }
  }

  private markDirty(): void {
    this.dirty = true;
    if (!this.writing) this.startWrite();
  }

  /** One write at a time; changes made meanwhile go out in the next one. */
  private startWrite(): void {
    this.dirty = false;
    const body = serialize(this.entries);
    this.writing = writeFileDurably(this.path, body)
      .catch((err: unknown) => {
        // Not retried in a loop: the next change (or stop) writes again.
        this.log.warn({ file: this.path, err: errorText(err) }, 'could not write the discovery registry');
      })
      .finally(() => {
        this.writing = undefined;
        if (this.dirty) this.startWrite();
      });
  }
}

function copyOf(device: RegisteredDevice): RegisteredDevice {
  return {
    topic: device.topic,
    components: { ...device.components },
    ...(device.name !== undefined ? { name: device.name } : {}),
    ...(device.retained ? { retained: [...device.retained] } : {}),
    ...(device.pendingRemoval ? { pendingRemoval: true } : {}),
  };
}

function sameDevice(a: RegisteredDevice, b: RegisteredDevice): boolean {
  if (a.topic !== b.topic || a.name !== b.name || Boolean(a.pendingRemoval) !== Boolean(b.pendingRemoval))
    return false;
  if ((a.retained ?? []).join('\n') !== (b.retained ?? []).join('\n')) return false;
  const keys = Object.keys(a.components);
  if (keys.length !== Object.keys(b.components).length) return false;
  return keys.every((k) => a.components[k] === b.components[k]);
}

function parse(text: string): Record<string, RegisteredDevice> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${errorText(err)}`;
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return `unexpected content at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
  }
  return result.data.devices;
}

function serialize(entries: ReadonlyMap<string, RegisteredDevice>): string {
  const devices: Record<string, RegisteredDevice> = {};
  for (const id of [...entries.keys()].sort()) {
    const device = entries.get(id);
    if (device) devices[id] = device;
  }
  return `${JSON.stringify({ format: FORMAT, version: 1, devices }, null, 2)}\n`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
