/**
 * Date/time text for Home Assistant: ISO 8601 with the daemon's local UTC offset. The BS20 clock runs
 * on local wall time anyway, so the daemon's time zone (TZ) has to be right; HA parses the offset.
 */

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

/** `2026-03-01T07:30:00+01:00`; null for a missing or impossible instant. */
export function formatLocalIso(epochMs: number | null | undefined): string | null {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return null;
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return null;
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(offsetMin / 60)}:${pad(offsetMin % 60)}`
  );
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/i;
const TIME_OF_DAY = /^(\d{1,2}):(\d{2})$/;

/**
 * Parses the few date/time forms a user or HA sends: full ISO 8601 with or without an offset
 * (without = local time), `YYYY-MM-DD HH:MM`, or `HH:MM` meaning its next occurrence after `nowMs`.
 * Returns epoch ms, or null when the text is none of these or names an impossible date.
 */
export function parseDateTime(text: string, nowMs: number): number | null {
  const time = TIME_OF_DAY.exec(text);
  if (time) {
    const hour = Number(time[1]);
    const minute = Number(time[2]);
    if (hour > 23 || minute > 59) return null;
    const candidate = new Date(nowMs);
    candidate.setHours(hour, minute, 0, 0);
    if (candidate.getTime() <= nowMs) candidate.setDate(candidate.getDate() + 1);
    return candidate.getTime();
  }
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  // Round-trip through UTC fields to reject 31 February and friends.
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(asUtc);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  if (m[7]) return asUtc;
  if (m[8]) {
    const offsetHours = Number(m[9]);
    const offsetMinutes = Number(m[10]);
    if (offsetHours > 14 || offsetMinutes > 59) return null;
    const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
    return m[8] === '+' ? asUtc - offsetMs : asUtc + offsetMs;
  }
  return new Date(year, month - 1, day, hour, minute, second).getTime();
}
