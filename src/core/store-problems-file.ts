/**
 * Keeps the unresolved store problems in `<data_dir>/store-problems.json`, so a problem found at one
 * start (the bad file moved aside, so the next start finds nothing wrong) still shows after a
 * restart until the user clears it. A failed write is not carried over: the next start reports it
 * again if the disk still refuses writes. A file that cannot be read is ignored with a warning.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { writeFileDurably } from './durable-file.js';
import type { StoreProblems } from './store-problems.js';

const fileSchema = z.object({
  problems: z.array(
    z.object({
      kind: z.string(),
      file: z.string(),
      reason: z.string(),
      movedTo: z.string().nullable(),
      recoveredFrom: z.string().nullable(),
      at: z.number(),
    }),
  ),
});

/** Loads the earlier problems into `problems` and writes every change; idle() resolves once written. */
export function keepStoreProblemsIn(
  problems: StoreProblems,
  path: string,
  log: Logger,
): { idle(): Promise<void> } {
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      log.warn({ file: path, err: (err as Error).message }, 'cannot read the earlier store problems');
    }
  }
  if (text !== null) {
    try {
      const parsed = fileSchema.parse(JSON.parse(text));
      for (const p of parsed.problems) if (p.kind !== 'write_failed') problems.add(p);
    } catch (err) {
      log.warn({ file: path, err: (err as Error).message }, 'ignoring an unreadable store-problems file');
    }
  }
  let writing: Promise<void> = Promise.resolve();
  problems.events.on('changed', () => {
    const body = `${JSON.stringify({ problems: problems.list() })}\n`;
    writing = writing
      .then(() => writeFileDurably(path, body))
      .catch((err: unknown) =>
        log.warn({ file: path, err: (err as Error).message }, 'cannot keep the store problems on disk'),
      );
  });
  return { idle: () => writing };
}
