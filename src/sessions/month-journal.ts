/**
 * An append-only journal beside each month file (`YYYY-MM.journal`, one JSON line per entry): every
 * completed session, and every note added to a closed one, is appended and fsynced before the month
 * file is rewritten. The month file keeps one earlier generation (`.bak`), which is one write behind;
 * when the month file is found torn, that generation is loaded and the journal replayed onto it, so
 * the newest session is never the one lost. A torn last line (power cut mid-append) is skipped.
 * The journal holds the month's completed sessions once more, so it is never larger than the month.
 */
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { makeDirectory } from '../core/data-dir.js';
import { noteSchema, type SessionNote, type SessionRecord, sessionRecordSchema } from './record.js';

const entrySchema = z.union([
  z.object({ session: sessionRecordSchema }),
  z.object({ note: z.object({ id: z.string(), note: noteSchema }) }),
]);
export type JournalEntry = { session: SessionRecord } | { note: { id: string; note: SessionNote } };

/** `2026-06.json` → `2026-06.journal`. */
export function journalPathFor(monthFile: string): string {
  return monthFile.replace(/\.json$/, '.journal');
}

export class MonthJournal {
  constructor(readonly path: string) {}

  /** On disk when it resolves (write + fsync of the appended line). */
  async append(entry: JournalEntry): Promise<void> {
    // Not fs.mkdir's recursive mode, which never returns under /proc-like folders (see data-dir.ts).
    makeDirectory(dirname(this.path));
    const handle = await open(this.path, 'a+', 0o600);
    try {
      // After a torn last line the entry starts a line of its own, or it would be unreadable too.
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await handle.read(last, 0, 1, size - 1);
      const lead = size > 0 && last[0] !== 0x0a ? '\n' : '';
      await handle.writeFile(`${lead}${JSON.stringify(entry)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Every readable entry, oldest first; a missing journal is empty. Unreadable lines are skipped. */
  async read(): Promise<{ entries: JournalEntry[]; skipped: number }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: 0 };
      throw err;
    }
    const entries: JournalEntry[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = entrySchema.safeParse(JSON.parse(line));
        if (parsed.success) entries.push(parsed.data);
        else skipped++;
      } catch {
        skipped++;
      }
    }
    return { entries, skipped };
  }
}

/**
 * Adds what the journal has and the loaded generation lacks: sessions by id, notes by time and text.
 * Returns the number of sessions and notes added.
 */
export function replayJournal(sessions: SessionRecord[], entries: readonly JournalEntry[]): number {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  let added = 0;
  for (const entry of entries) {
    if ('session' in entry) {
      if (byId.has(entry.session.id)) continue;
      const copy = structuredClone(entry.session);
      sessions.push(copy);
      byId.set(copy.id, copy);
      added++;
    } else {
      const record = byId.get(entry.note.id);
      const { at, text } = entry.note.note;
      if (!record || record.notes.some((n) => n.at === at && n.text === text)) continue;
      record.notes.push({ at, text });
      added++;
    }
  }
  return added;
}
