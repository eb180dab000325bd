/**
 * When a session opens, continues and closes, and why, from a charger's state alone: pure rules,
 * the same for every kind of charger, so they read (and test) apart from the bookkeeping.
 */
import type { ChargerState } from '../core/charger.js';

/** OCPP StopTransaction reasons (and similar words from other chargers) → our stop reasons. */
const CHARGER_STOP_REASONS: Record<string, string> = {
  evdisconnected: 'unplugged',
  remote: 'remote',
  local: 'local',
  emergencystop: 'error',
  powerloss: 'power_loss',
  reboot: 'reboot',
  hardreset: 'reboot',
  softreset: 'reboot',
  deauthorized: 'deauthorized',
  unlockcommand: 'remote',
  other: 'other',
  // BS20 charge record (0x000A) stop reasons.
  gununplugged: 'unplugged',
  appstop: 'remote',
  cardstop: 'local',
  full: 'finished',
  fixedfeereached: 'finished',
  fixedenergyreached: 'finished',
  fixedtimereached: 'finished',
  powerfailure: 'power_loss',
  overcurrent: 'error',
  shortcircuit: 'error',
  mainboardovertemperature: 'error',
  plugovertemperature: 'error',
  buttonstop: 'local',
};

/** `EVDisconnected` → `unplugged`; words we do not know → `other`. */
export function stopReasonFromCharger(reason: string): string {
  return CHARGER_STOP_REASONS[reason.toLowerCase().replace(/[^a-z]/g, '')] ?? 'other';
}

/** Energy flows, or (OCPP) a transaction is authorised with the car plugged in but not drawing yet. */
export function shouldOpen(state: ChargerState, newChargerSessionId: string | null): boolean {
  if (state.charging) return true;
  return state.plugged && state.status === 'suspended' && newChargerSessionId !== null;
}

/** The charger is still in a session (drawing, or paused by the car or the charger). */
export function isRunning(state: ChargerState): boolean {
  return state.charging || (state.plugged && state.status === 'suspended');
}

export interface CloseContext {
  /** A stop was asked for through chargebridge a moment ago. */
  stopRequested: boolean;
  /** What the charger said when it stopped (already mapped), if anything. */
  chargerStopReason: string | null;
  /** The open session's charger session id (BS20 chargeId, OCPP transactionId). */
  chargerSessionId: string | null;
  /** What stopped the energy in the pause the session is in, if it would end a session (`error`, `finished`…). */
  pauseCause: string | null;
  /** The stop is a pause a charging rule asked for (a charging profile below 6 A): the session goes on. */
  pauseAnnounced: boolean;
}

/**
 * Why the open session ends with this state, or null while it goes on. A session is one plug-in
 * (one transaction where the charger has them): it ends when the charger ends its transaction, the
 * car leaves, a stop is asked for or the charger stops on its own; a suspended spell, a fault and a
 * pause a charging rule asked for are pauses inside it.
 */
export function closeReason(state: ChargerState, context: CloseContext): string | null {
  const own = state.session;
  const ended =
    own?.endedAt != null &&
    context.chargerSessionId !== null &&
    own.chargerSessionId === context.chargerSessionId;
  if (ended) {
    const reason = stopReasonFromCharger(own.stopReason ?? 'other');
    return reason === 'other' && context.pauseCause !== null ? context.pauseCause : reason;
  }
  if (state.charging) return null;
  // The car left: the session ends for what stopped the energy before (a fault that did not clear…).
  if (!state.plugged) return context.pauseCause ?? 'unplugged';
  // A fault that clears goes on in the same session; one that does not ends it when the car leaves.
  if (state.status === 'suspended' || state.status === 'scheduled' || state.status === 'error') return null;
  if (context.stopRequested) return 'remote';
  if (context.chargerStopReason !== null) return context.chargerStopReason;
  if (context.pauseAnnounced) return null;
  return state.status === 'finished' ? 'finished' : 'stopped';
}

export interface PauseKind {
  /** Recorded in the session's pauses. */
  reason: string;
  /** The stop reason when the session ends in this pause; null: the car paused (it ends `unplugged`). */
  cause: string | null;
}

/** What kind of pause a state without energy is, inside an open session; `announced`: the reason a rule gave. */
export function pauseKind(
  state: ChargerState,
  chargerStopReason: string | null,
  announced: string | null = null,
): PauseKind {
  if (state.status === 'error') return { reason: 'fault', cause: 'error' };
  if (announced !== null) return { reason: announced, cause: null };
  if (state.status === 'scheduled') return { reason: 'scheduled', cause: null };
  const ocpp = state.raw.ocppStatus;
  if (ocpp === 'SuspendedEVSE') return { reason: 'suspended_evse', cause: null };
  if (ocpp === 'SuspendedEV') return { reason: 'suspended_ev', cause: null };
  if (state.status === 'suspended') return { reason: 'suspended', cause: null };
  const cause = chargerStopReason ?? (state.status === 'finished' ? 'finished' : 'stopped');
  return { reason: 'stopped', cause };
}

/**
 * Where an old session ends and the charger's replacing one begins on the register: the new one's
 * own energy counted back from the register, never before the old one's last reading.
 */
export function handoverMeterKwh(oldLastKwh: number, state: ChargerState, meterKwh: number): number {
  const newEnergy = state.session?.energyKwh;
  const start = typeof newEnergy === 'number' && newEnergy > 0 ? meterKwh - newEnergy : meterKwh;
  return Math.min(meterKwh, Math.max(oldLastKwh, start));
}

/** The charger's own start time of its session, kept within [notBefore, now] (its clock may drift). */
export function chargerStartedAt(state: ChargerState, notBefore: number, now: number): number {
  const reported = state.session?.startedAt;
  if (typeof reported !== 'number' || !Number.isFinite(reported)) return now;
  return Math.min(now, Math.max(notBefore, reported));
}
