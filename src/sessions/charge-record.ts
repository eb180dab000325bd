/**
 * Pure: closing a session the daemon could not watch end (it was down when the car left) from what
 * the charger says afterwards: its own record of the session (BS20 0x000A), else its lifetime
 * register. The energy stored is then what the charger delivered, never less than already recorded.
 */
import type { ChargerState } from '../core/charger.js';

/** A charge record's start time within this of the session's start names the same session (clocks drift). */
export const RECORD_START_TOLERANCE_MS = 5 * 60_000;
/** After a restart finds the session over, wait this long for the charger's record before using the register. */
export const RECORD_WAIT_MS = 5_000;

export interface ChargeRecordView {
  chargerSessionId: string | null;
  startedAt: number | null;
  endedAt: number | null;
  meterStartKwh: number | null;
  meterStopKwh: number | null;
  energyKwh: number | null;
  /** The charger's stop reason word (e.g. `gun_unplugged`). */
  reason: string | null;
}

/** The session being closed, as far as this needs it. */
export interface SessionView {
  chargerSessionId: string | null;
  startedAt: number;
  meterStartKwh: number | null;
  /** Last saved reading. */
  last: { at: number; meterKwh: number };
}

export interface SessionEnd {
  endedAt: number;
  meterStopKwh: number;
  /** Lower start meter taken from the record (we joined late), or null. */
  meterStartKwh: number | null;
  /** The charger's reason word, or null (then `interrupted`). */
  reason: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A `charge_record` event's data, or null when it carries nothing usable. */
export function chargeRecordOf(data: Record<string, unknown> | undefined): ChargeRecordView | null {
  if (!data) return null;
  const id = data.chargerSessionId;
  const record: ChargeRecordView = {
    chargerSessionId: typeof id === 'string' && id !== '' ? id : null,
    startedAt: num(data.startedAt),
    endedAt: num(data.endedAt),
    meterStartKwh: num(data.meterStartKwh),
    meterStopKwh: num(data.meterStopKwh),
    energyKwh: num(data.energyKwh),
    reason: typeof data.reason === 'string' ? data.reason : null,
  };
  return record.chargerSessionId === null && record.startedAt === null ? null : record;
}

/** Same charger session id, or (no id known on one side) a start time within the tolerance. */
export function recordMatches(record: ChargeRecordView, session: SessionView): boolean {
  if (record.chargerSessionId !== null && session.chargerSessionId !== null)
    return record.chargerSessionId === session.chargerSessionId;
  return (
    record.startedAt !== null && Math.abs(record.startedAt - session.startedAt) <= RECORD_START_TOLERANCE_MS
  );
}

/** A record of a session that began after this one: proof that another charge ran since. */
export function recordAfter(record: ChargeRecordView, session: SessionView): boolean {
  return (
    !recordMatches(record, session) &&
    record.startedAt !== null &&
    record.startedAt > session.startedAt + RECORD_START_TOLERANCE_MS
  );
}

/**
 * The end by the charger's record: its stop meter (or our start plus the energy it counted), its
 * stop time; never below the last saved reading.
 */
export function endFromRecord(record: ChargeRecordView, session: SessionView): SessionEnd {
  const start = session.meterStartKwh ?? session.last.meterKwh;
  const counted =
    record.meterStartKwh !== null && record.meterStopKwh !== null
      ? record.meterStopKwh - record.meterStartKwh
      : record.energyKwh;
  const recordStop = record.meterStopKwh ?? (counted === null ? null : start + counted);
  // Joined late without knowing the start: the record's start meter is the real one.
  const earlierStart =
    record.meterStartKwh !== null && record.meterStartKwh < start && recordStop !== null
      ? record.meterStartKwh
      : null;
  return {
    endedAt: Math.max(session.last.at, record.endedAt ?? session.last.at),
    meterStopKwh: Math.max(session.last.meterKwh, recordStop ?? session.last.meterKwh),
    meterStartKwh: earlierStart,
    reason: record.reason,
  };
}

/**
 * No record: the register closes the session when the car is gone and no other charge ran since
 * (the charger still names this session as its last one, and no record of a later one came). Everything the register
 * gained since the last saved reading was this session's. The end time is then the charger's own
 * (start + duration of its session) when it still reports it, else the last saved reading's.
 * Otherwise the last saved reading stays the end, as it was.
 */
export function endFromRegister(
  state: ChargerState,
  session: SessionView,
  laterRecords: readonly ChargeRecordView[],
): SessionEnd {
  const asSaved: SessionEnd = {
    endedAt: session.last.at,
    meterStopKwh: session.last.meterKwh,
    meterStartKwh: null,
    reason: null,
  };
  const register = state.energyTotalKwh;
  const reported = state.session?.chargerSessionId ?? null;
  const ours = reported !== null && reported === session.chargerSessionId;
  // Only when the charger still names this session is it known that nothing charged since; a
  // charger that names none may have run any number of sessions while we were down.
  if (register === null || state.plugged || state.charging || !ours) return asSaved;
  // A later session's record bounds ours by its start meter.
  const bound = Math.min(register, ...laterRecords.map((r) => r.meterStartKwh ?? register));
  const reportedEnd =
    ours && state.session?.startedAt != null && state.session.durationS != null
      ? state.session.startedAt + state.session.durationS * 1000
      : null;
  return {
    endedAt: Math.max(session.last.at, reportedEnd ?? session.last.at),
    meterStopKwh: Math.max(session.last.meterKwh, bound),
    meterStartKwh: null,
    reason: null,
  };
}

/**
 * No record yet and the next session begins: the old one ended before it, so the register where the
 * next one starts (or where a later recorded one started) bounds it. The end time stays unknown.
 */
export function endBeforeNext(
  session: SessionView,
  nextStartKwh: number,
  laterRecords: readonly ChargeRecordView[],
): SessionEnd {
  const bound = Math.min(nextStartKwh, ...laterRecords.map((r) => r.meterStartKwh ?? nextStartKwh));
  return {
    endedAt: session.last.at,
    meterStopKwh: Math.max(session.last.meterKwh, bound),
    meterStartKwh: null,
    reason: null,
  };
}
