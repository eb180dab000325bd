/**
 * Pure: the installed charging profiles composed over time into one current limit (OCPP 1.6 §3.13).
 *
 * Per purpose, the highest stackLevel whose schedule is running wins; a TxDefaultProfile on
 * connector 1 overrides those on connector 0; a TxProfile overrides TxDefault; the result is
 * min(ChargePointMax, Tx or TxDefault). Every answer says when it can next change, so the caller
 * schedules one clock timer instead of polling.
 *
 * Units: limits in W become A through the charger's real phase count at the nominal 230 V (a
 * 1-phase BS20 draws W / 230 amps whatever `numberPhases` says; the BS20 cannot switch phases).
 */
import { MIN_CHARGING_CURRENT_A } from '../../core/charger.js';
import type { InstalledProfile } from './charging-profiles.js';

const DAY_MS = 86_400_000;

export interface EvalContext {
  /** Id of the running transaction (TxProfiles for other ids are ignored). */
  transactionId: number | null;
  /**
   * Start of Relative schedules: the transaction start. null when none runs: a Relative profile
   * then gives its first period ("as if a transaction started now") and no change times.
   */
  relativeStartMs: number | null;
  phases: 1 | 3;
  voltageV: number;
}

export interface LimitAt {
  /** Amps per phase; null when no profile constrains the charger. */
  limitA: number | null;
  /** The next moment the limit may change (null: never, as far as the profiles go). */
  nextChangeAt: number | null;
}

interface Occurrence {
  start: number;
  end: number;
}

function parseMs(iso: string | undefined): number | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** The schedule run that contains `at`, or the next one when none does yet. */
function occurrence(entry: InstalledProfile, at: number, ctx: EvalContext): Occurrence {
  const { profile } = entry;
  const schedule = profile.chargingSchedule;
  const durationMs = schedule.duration !== undefined ? schedule.duration * 1000 : Number.POSITIVE_INFINITY;
  let start: number;
  if (profile.chargingProfileKind === 'Relative') {
    start = ctx.relativeStartMs ?? at;
  } else {
    start = parseMs(schedule.startSchedule) ?? entry.installedAt;
    if (profile.chargingProfileKind === 'Recurring') {
      const cycle = profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
      if (at >= start) start += Math.floor((at - start) / cycle) * cycle;
      return { start, end: start + Math.min(durationMs, cycle) };
    }
  }
  return { start, end: start + durationMs };
}

function isValidAt(entry: InstalledProfile, at: number): boolean {
  const from = parseMs(entry.profile.validFrom);
  const to = parseMs(entry.profile.validTo);
  return (from === null || at >= from) && (to === null || at < to);
}

/** The profile's limit in A at `at`, or null when its schedule is not running then. */
function profileLimitA(entry: InstalledProfile, at: number, ctx: EvalContext): number | null {
  if (!isValidAt(entry, at)) return null;
  const { start, end } = occurrence(entry, at, ctx);
  if (at < start || at >= end) return null;
  const elapsedS = (at - start) / 1000;
  let limit: number | null = null;
  for (const period of entry.profile.chargingSchedule.chargingSchedulePeriod) {
    if (period.startPeriod <= elapsedS) limit = period.limit;
  }
  if (limit === null) return null;
  return entry.profile.chargingSchedule.chargingRateUnit === 'W'
    ? limit / (ctx.voltageV * ctx.phases)
    : limit;
}

/** Moments after `at` where this profile may start, stop or change period. */
function boundariesAfter(entry: InstalledProfile, at: number, ctx: EvalContext): number[] {
  const out: number[] = [];
  if (entry.profile.chargingProfileKind === 'Relative' && ctx.relativeStartMs === null) return out;
  const from = parseMs(entry.profile.validFrom);
  const to = parseMs(entry.profile.validTo);
  if (from !== null) out.push(from);
  if (to !== null) out.push(to);
  const { start, end } = occurrence(entry, at, ctx);
  out.push(start, end);
  for (const period of entry.profile.chargingSchedule.chargingSchedulePeriod)
    out.push(start + period.startPeriod * 1000);
  if (entry.profile.chargingProfileKind === 'Recurring') {
    const cycle = entry.profile.recurrencyKind === 'Weekly' ? 7 * DAY_MS : DAY_MS;
    out.push(start + cycle);
  }
  return out.filter((t) => Number.isFinite(t) && t > at);
}

/** Highest running stackLevel's limit among `entries`, or null. */
function winner(entries: readonly InstalledProfile[], at: number, ctx: EvalContext): number | null {
  let best: { level: number; limit: number } | null = null;
  for (const entry of entries) {
    const limit = profileLimitA(entry, at, ctx);
    if (limit === null) continue;
    if (!best || entry.profile.stackLevel > best.level) best = { level: entry.profile.stackLevel, limit };
  }
  return best ? best.limit : null;
}

/** The composite limit at `at` and when it may next change. */
export function limitAt(list: readonly InstalledProfile[], at: number, ctx: EvalContext): LimitAt {
  const byPurpose = (purpose: string, connectorId?: number) =>
    list.filter(
      (e) =>
        e.profile.chargingProfilePurpose === purpose &&
        (connectorId === undefined || e.connectorId === connectorId),
    );
  const max = winner(byPurpose('ChargePointMaxProfile', 0), at, ctx);
  const tx =
    ctx.transactionId === null
      ? winner(
          byPurpose('TxProfile', 1).filter((e) => e.profile.transactionId === undefined),
          at,
          ctx,
        )
      : winner(
          byPurpose('TxProfile', 1).filter(
            (e) => e.profile.transactionId === undefined || e.profile.transactionId === ctx.transactionId,
          ),
          at,
          ctx,
        );
  const txDefault =
    winner(byPurpose('TxDefaultProfile', 1), at, ctx) ?? winner(byPurpose('TxDefaultProfile', 0), at, ctx);
  const perTx = tx ?? txDefault;
  const limits = [max, perTx].filter((v): v is number => v !== null);
  const limitA = limits.length === 0 ? null : Math.min(...limits);
  let nextChangeAt: number | null = null;
  for (const entry of list) {
    for (const t of boundariesAfter(entry, at, ctx))
      if (nextChangeAt === null || t < nextChangeAt) nextChangeAt = t;
  }
  return { limitA, nextChangeAt };
}

export interface SchedulePeriod {
  startPeriod: number;
  limit: number;
}

/**
 * GetCompositeSchedule: the limit from `startMs` for `durationS`, as periods (seconds from the
 * start) in the requested unit; never above the charger's ceiling, which is also the limit where no
 * profile applies.
 */
export function compositeSchedule(
  list: readonly InstalledProfile[],
  startMs: number,
  durationS: number,
  ctx: EvalContext,
  unit: 'A' | 'W',
  ceilingA: number,
): SchedulePeriod[] {
  const end = startMs + durationS * 1000;
  // Without a transaction, Relative schedules run as if one started now.
  const context: EvalContext = { ...ctx, relativeStartMs: ctx.relativeStartMs ?? startMs };
  const periods: SchedulePeriod[] = [];
  let at = startMs;
  for (let guard = 0; guard < 10_000; guard++) {
    const { limitA, nextChangeAt } = limitAt(list, at, context);
    const amps = Math.min(limitA ?? ceilingA, ceilingA);
    const limit = round1(unit === 'W' ? amps * ctx.voltageV * ctx.phases : amps);
    if (periods.at(-1)?.limit !== limit)
      periods.push({ startPeriod: Math.round((at - startMs) / 1000), limit });
    if (nextChangeAt === null || nextChangeAt >= end) break;
    at = nextChangeAt;
  }
  return periods;
}

export type Setpoint = { kind: 'unconstrained' } | { kind: 'current'; currentA: number } | { kind: 'pause' };

/**
 * What to do with the BS20: whole amps, never rounded up, never above the ceiling; below the 6 A
 * the pilot signal allows, charging pauses (SuspendedEVSE).
 */
export function chargerSetpoint(limitA: number | null, ceilingA: number): Setpoint {
  if (limitA === null) return { kind: 'unconstrained' };
  const whole = Math.floor(limitA + 1e-9);
  if (whole < MIN_CHARGING_CURRENT_A) return { kind: 'pause' };
  return { kind: 'current', currentA: Math.min(whole, ceilingA) };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
