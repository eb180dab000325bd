/**
 * Wall-clock time in a configured IANA zone (not the process's TZ): local date parts, day and month
 * keys, and the instants at which a local wall time occurs. DST-aware through Intl; no dependencies.
 */

export interface ZonedParts {
  year: number;
  /** 1…12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when Intl knows the zone. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock parts straight from Intl (slow: tens of µs a call). */
function intlParts(epochMs: number, timeZone: string): ZonedParts {
  const out: ZonedParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    switch (part.type) {
      case 'year':
        out.year = Number(part.value);
        break;
      case 'month':
        out.month = Number(part.value);
        break;
      case 'day':
        out.day = Number(part.value);
        break;
      case 'hour':
        out.hour = Number(part.value);
        break;
      case 'minute':
        out.minute = Number(part.value);
        break;
      case 'second':
        out.second = Number(part.value);
        break;
      case 'weekday':
        out.weekday = WEEKDAYS[part.value] ?? 0;
        break;
    }
  }
  return out;
}

/**
 * Offsets are cached per 15 minutes of UTC: every clock change of this century happens on such a
 * boundary, and an export or a tariff split asks for thousands of instants.
 */
const OFFSET_BUCKET_MS = 15 * 60_000;
const OFFSET_CACHE_MAX = 100_000;
const offsetCaches = new Map<string, Map<number, number>>();

/** Local time minus UTC at this instant, in ms (whole seconds). */
export function offsetMs(epochMs: number, timeZone: string): number {
  const bucket = Math.floor(epochMs / OFFSET_BUCKET_MS);
  let cache = offsetCaches.get(timeZone);
  if (!cache) {
    cache = new Map();
    offsetCaches.set(timeZone, cache);
  }
  let offset = cache.get(bucket);
  if (offset === undefined) {
    const at = bucket * OFFSET_BUCKET_MS;
    const p = intlParts(at, timeZone);
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
    if (cache.size >= OFFSET_CACHE_MAX) cache.clear();
    cache.set(bucket, offset);
  }
  return offset;
}

export function zonedParts(epochMs: number, timeZone: string): ZonedParts {
  const local = new Date(epochMs + offsetMs(epochMs, timeZone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: (local.getUTCDay() + 6) % 7,
  };
}

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

/** `YYYY-MM-DD` of the local date. */
export function dayKey(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** `YYYY-MM` of the local date. */
export function monthKey(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}`;
}

/** `2026-01-15T22:00:00+01:00`: local time in the zone with its offset. */
export function formatZonedIso(epochMs: number, timeZone: string): string {
  const p = zonedParts(epochMs, timeZone);
  const offsetMin = Math.round(offsetMs(epochMs, timeZone) / 60_000);
  const sign = offsetMin >= 0 ? '+' : '-';
  return (
    `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    `${sign}${pad(offsetMin / 60)}:${pad(Math.abs(offsetMin) % 60)}`
  );
}

const HOUR_MS = 3_600_000;

/** The first instant in (fromMs, toMs] whose offset equals the offset at toMs (ms precision). */
export function transitionBetween(fromMs: number, toMs: number, timeZone: string): number {
  const target = offsetMs(toMs, timeZone);
  let lo = fromMs;
  let hi = toMs;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetMs(mid, timeZone) === target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Every instant at which the local wall time reads this date and time: one on ordinary days, two in
 * the hour repeated when clocks go back. A wall time skipped when clocks go forward has none; then the
 * instant the clocks jumped is returned, which is when that wall time "would have" started.
 */
export function instantsOfLocalTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): number[] {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offsets = new Set<number>();
  for (const probe of [wall - 3 * HOUR_MS, wall, wall + 3 * HOUR_MS]) {
    offsets.add(offsetMs(probe - offsetMs(probe, timeZone), timeZone));
    offsets.add(offsetMs(probe, timeZone));
  }
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset;
    if (offsetMs(candidate, timeZone) === offset) found.add(candidate);
  }
  if (found.size > 0) return [...found].sort((a, b) => a - b);
  const before = wall - Math.max(...offsets);
  const after = wall - Math.min(...offsets);
  return [transitionBetween(before, after, timeZone)];
}

/** Adds `days` to a calendar date (no zone involved). */
export function addDays(year: number, month: number, day: number, days: number): [number, number, number] {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** The instant the local day containing `epochMs` begins (first instant of 00:00, or the DST jump). */
export function startOfLocalDay(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  return instantsOfLocalTime(p.year, p.month, p.day, 0, 0, timeZone)[0]!;
}

/** The instant the local day after the one containing `epochMs` begins. */
export function startOfNextLocalDay(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  const [y, m, d] = addDays(p.year, p.month, p.day, 1);
  return instantsOfLocalTime(y, m, d, 0, 0, timeZone)[0]!;
}

export function startOfLocalMonth(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  return instantsOfLocalTime(p.year, p.month, 1, 0, 0, timeZone)[0]!;
}

export function startOfNextLocalMonth(epochMs: number, timeZone: string): number {
  const p = zonedParts(epochMs, timeZone);
  const [y, m] = p.month === 12 ? [p.year + 1, 1] : [p.year, p.month + 1];
  return instantsOfLocalTime(y, m, 1, 0, 0, timeZone)[0]!;
}

/** [start, end) of a `YYYY-MM` month in the zone, or null when the key is not a month. */
export function monthRange(key: string, timeZone: string): { fromMs: number; toMs: number } | null {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  const fromMs = instantsOfLocalTime(year, month, 1, 0, 0, timeZone)[0]!;
  const [ny, nm] = month === 12 ? [year + 1, 1] : [year, month + 1];
  return { fromMs, toMs: instantsOfLocalTime(ny, nm, 1, 0, 0, timeZone)[0]! };
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const OFFSET_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
const TIME_ONLY = /^(\d{1,2}):(\d{2})$/;

/**
 * A user's date/time in the zone: ISO 8601 with an offset, `YYYY-MM-DD HH:MM` (local), or `HH:MM`
 * (its next occurrence after nowMs). Null when it is none of these or names an impossible time.
 */
export function parseLocalDateTime(text: string, nowMs: number, timeZone: string): number | null {
  const trimmed = text.trim();
  if (OFFSET_DATE_TIME.test(trimmed)) {
    const ms = Date.parse(trimmed);
    return Number.isNaN(ms) ? null : ms;
  }
  const time = TIME_ONLY.exec(trimmed);
  if (time) {
    const [hour, minute] = [Number(time[1]), Number(time[2])];
    if (hour > 23 || minute > 59) return null;
    const today = zonedParts(nowMs, timeZone);
    for (const days of [0, 1, 2]) {
      const [y, m, d] = addDays(today.year, today.month, today.day, days);
      const at = instantsOfLocalTime(y, m, d, hour, minute, timeZone)[0]!;
      if (at > nowMs) return at;
    }
    return null;
  }
  const local = LOCAL_DATE_TIME.exec(trimmed);
  if (!local) return null;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(local[i])) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = local[6] === undefined ? 0 : Number(local[6]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  return instantsOfLocalTime(year, month, day, hour, minute, timeZone)[0]! + second * 1000;
}
