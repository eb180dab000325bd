/**
 * In-memory indexes over the closed sessions, rebuilt at load: by charger, by user and by local
 * month (in the configured zone), each kept sorted by start time. A query walks the smallest list
 * that its filters allow, so listing one month of 10k+ sessions touches only that month.
 */

import { monthKey } from '../core/zoned-time.js';
import type { SessionRecord } from './record.js';

export interface SessionFilter {
  chargerId?: string;
  /** Configured user name; `null` = sessions without a user. */
  user?: string | null;
  /** `YYYY-MM`, local month of the start. */
  month?: string;
  /** Sessions overlapping [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
}

/** Inserts keeping the list sorted by startedAt (appending is the common case). */
function insertSorted(list: SessionRecord[], record: SessionRecord): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.startedAt > record.startedAt) i--;
  list.splice(i, 0, record);
}

function addTo<K>(map: Map<K, SessionRecord[]>, key: K, record: SessionRecord): void {
  const list = map.get(key);
  if (list) insertSorted(list, record);
  else map.set(key, [record]);
}

/** Longest session the time-range lookup considers when looking back from `fromMs`. */
const LOOKBACK_MS = 40 * 86_400_000;

export class SessionIndex {
  private readonly all: SessionRecord[] = [];
  private readonly byId = new Map<string, SessionRecord>();
  private readonly byCharger = new Map<string, SessionRecord[]>();
  private readonly byUser = new Map<string | null, SessionRecord[]>();
  private readonly byMonth = new Map<string, SessionRecord[]>();

  constructor(private readonly timeZone: string) {}

  get size(): number {
    return this.all.length;
  }

  add(record: SessionRecord): void {
    if (this.byId.has(record.id)) throw new Error(`session ${record.id} is already stored`);
    this.byId.set(record.id, record);
    insertSorted(this.all, record);
    addTo(this.byCharger, record.chargerId, record);
    addTo(this.byUser, record.user, record);
    addTo(this.byMonth, monthKey(record.startedAt, this.timeZone), record);
  }

  get(id: string): SessionRecord | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The most recent session of a charger. */
  lastOf(chargerId: string): SessionRecord | undefined {
    return this.byCharger.get(chargerId)?.at(-1);
  }

  months(): string[] {
    return [...this.byMonth.keys()].sort();
  }

  /** Matching sessions, oldest first. */
  query(filter: SessionFilter = {}): SessionRecord[] {
    const candidates: SessionRecord[][] = [];
    if (filter.chargerId !== undefined) candidates.push(this.byCharger.get(filter.chargerId) ?? []);
    if (filter.user !== undefined) candidates.push(this.byUser.get(filter.user) ?? []);
    if (filter.month !== undefined) candidates.push(this.byMonth.get(filter.month) ?? []);
    let list = candidates.length > 0 ? candidates.reduce((a, b) => (b.length < a.length ? b : a)) : this.all;
    if (filter.fromMs !== undefined) {
      // Sorted by start: skip what started long before the range.
      const from = filter.fromMs - LOOKBACK_MS;
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.startedAt < from) lo = mid + 1;
        else hi = mid;
      }
      list = list.slice(lo);
    }
    return list.filter(
      (r) =>
        (filter.chargerId === undefined || r.chargerId === filter.chargerId) &&
        (filter.user === undefined || r.user === filter.user) &&
        (filter.month === undefined || monthKey(r.startedAt, this.timeZone) === filter.month) &&
        (filter.toMs === undefined || r.startedAt < filter.toMs) &&
        (filter.fromMs === undefined || (r.endedAt ?? r.startedAt) >= filter.fromMs),
    );
  }
}
