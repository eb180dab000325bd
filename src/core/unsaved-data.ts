/**
 * What a stop step could not write, and where the data is kept instead. A stop step that loses
 * data throws UnsavedDataError; the daemon collects them and `chargebridge run` exits non-zero with
 * each one named, so nothing is lost silently.
 */

export interface UnsavedFile {
  /** The file that could not be written. */
  file: string;
  /** Where the newest copy of that data is on disk instead; null when there is none. */
  keptIn: string | null;
  /** When `keptIn` was last written (ms since the epoch); null when unknown. */
  keptSince: number | null;
  /** One sentence for the user: what is missing and where the rest is. */
  detail: string;
}

export class UnsavedDataError extends Error {
  readonly unsaved: readonly UnsavedFile[];
  constructor(what: string, unsaved: readonly UnsavedFile[]) {
    super(`${what}: ${unsaved.map((u) => u.detail).join('; ')}`);
    this.name = 'UnsavedDataError';
    this.unsaved = unsaved;
  }
}

/** "3 minutes", "40 seconds": how much progress a stale copy misses. */
export function describeAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} second${s === 1 ? '' : 's'}`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} minutes`;
  return `${Math.round(min / 60)} hours`;
}
