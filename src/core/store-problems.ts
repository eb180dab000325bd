/**
 * Store problems the user has not dealt with yet (a corrupt file moved aside, a disk that refuses
 * writes), kept so Home Assistant can show them on the bridge device whenever it connects, not only
 * as a `store_problem` event it may miss. A problem goes away when it is resolved: a failed write
 * once the store writes again, anything else when the user clears it (`store_problems/clear`).
 */
import { TypedEmitter } from './emitter.js';

export interface StoreProblem {
  kind: string;
  file: string;
  reason: string;
  movedTo: string | null;
  recoveredFrom: string | null;
  at: number;
}

/** At most this many are kept (the oldest go first): a disk failing for days must not grow it. */
export const STORE_PROBLEMS_MAX = 20;

export class StoreProblems {
  readonly events = new TypedEmitter<{ changed: [] }>();
  private readonly items: StoreProblem[] = [];

  /** Oldest first. */
  list(): readonly StoreProblem[] {
    return this.items;
  }

  add(problem: StoreProblem): void {
    // The same failure again (same file and kind) replaces the older entry.
    const same = this.items.findIndex((p) => p.file === problem.file && p.kind === problem.kind);
    if (same >= 0) this.items.splice(same, 1);
    this.items.push({ ...problem });
    if (this.items.length > STORE_PROBLEMS_MAX) this.items.splice(0, this.items.length - STORE_PROBLEMS_MAX);
    this.events.emit('changed');
  }

  /** Removes the problems that match; returns how many. */
  resolve(match: (problem: StoreProblem) => boolean): number {
    const before = this.items.length;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i];
      if (item && match(item)) this.items.splice(i, 1);
    }
    const removed = before - this.items.length;
    if (removed > 0) this.events.emit('changed');
    return removed;
  }
}
