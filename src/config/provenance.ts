/** Where values came from, so a problem can say "set by CHARGEBRIDGE_…" or "from !secret …". */
import { formatPath, type PathSegment } from './errors.js';

export class Provenance {
  /** Formatted key path → where its value came from. */
  private readonly origins = new Map<string, { note: string; inFile: boolean }>();
  /** Paths whose own problem has been reported already; later checks stay quiet about them. */
  private readonly reported = new Set<string>();
  /** Values to hide wherever they appear (from !secret and *_file). */
  readonly secretValues = new Set<string>();

  setOrigin(path: readonly PathSegment[], note: string, inFile: boolean): void {
    this.origins.set(formatPath(path), { note, inFile });
  }

  /** The origin of the value at `path` or of the nearest parent set as a whole. */
  originOf(path: readonly PathSegment[]): { note: string; inFile: boolean } | undefined {
    for (let length = path.length; length >= 0; length--) {
      const origin = this.origins.get(formatPath(path.slice(0, length)));
      if (origin) return origin;
    }
    return undefined;
  }

  markReported(path: readonly PathSegment[]): void {
    this.reported.add(formatPath(path));
  }

  isReported(path: readonly PathSegment[]): boolean {
    for (let length = path.length; length >= 0; length--) {
      if (this.reported.has(formatPath(path.slice(0, length)))) return true;
    }
    return false;
  }

  addSecret(value: unknown): void {
    if (typeof value === 'string' || typeof value === 'number') this.secretValues.add(String(value));
  }
}
