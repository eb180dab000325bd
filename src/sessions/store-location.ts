/**
 * Where the session files live: `<data_dir>/sessions/`. Versions up to 0.1.0 of the daemon wrote them
 * one level deeper (`<data_dir>/sessions/sessions/`) while the `sessions` CLI read the right folder and
 * saw nothing. The daemon moves such files up once; the read-only CLI reads whichever folder has them.
 */
import { existsSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { SESSIONS_DIR } from './store.js';

/** The old nested folder, if an earlier version left one. */
function nestedFolder(dataDir: string): string | null {
  const nested = join(dataDir, SESSIONS_DIR, SESSIONS_DIR);
  return existsSync(nested) ? nested : null;
}

/** For the CLI (read-only): the data folder whose `sessions/` holds the files. */
export function sessionDataDirForReading(dataDir: string): string {
  return nestedFolder(dataDir) ? join(dataDir, SESSIONS_DIR) : dataDir;
}

/**
 * For the daemon, before the store opens: moves the files of the nested folder up. A name that exists
 * in both places is left where it is (nothing is overwritten) and named in the log.
 */
export function moveNestedSessionFilesUp(dataDir: string, log: Logger): void {
  const nested = nestedFolder(dataDir);
  if (!nested) return;
  const target = join(dataDir, SESSIONS_DIR);
  const kept: string[] = [];
  for (const name of readdirSync(nested)) {
    if (existsSync(join(target, name))) kept.push(name);
    else renameSync(join(nested, name), join(target, name));
  }
  if (kept.length === 0) rmdirSync(nested);
  log.warn(
    { from: nested, to: target, ...(kept.length > 0 ? { leftInPlace: kept } : {}) },
    kept.length > 0
      ? 'moved session files from the old nested folder; some names exist in both places and were left where they are'
      : 'moved session files from the old nested folder',
  );
}
