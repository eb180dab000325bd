/**
 * Small files the daemon must not lose on a power cut (retained MQTT messages, the discovery
 * registry, the OCPP ledger…): write to a temp file, fsync, rename over the old one, fsync the
 * folder, so a reader finds the old content or the new, never half of one. A file that cannot be
 * read is moved aside for inspection, never deleted.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileDurably(path: string, body: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dir.close();
  }
}

/** `<file>.corrupt-<time>`: where an unreadable file goes. */
export function asidePath(path: string, nowMs: number): string {
  return `${path}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
}

/** Move an unreadable file aside; returns where it went. */
export async function moveAside(path: string, nowMs: number): Promise<string> {
  const aside = asidePath(path, nowMs);
  await rename(path, aside);
  return aside;
}
