/**
 * Pure mapping from BS20 messages to the core ChargerState. No I/O, no timers: the charger feeds it
 * messages and gets the next state back, which keeps the protocol's meaning testable with values.
 */
import type { ChargerSession, ChargerState, ChargerStatus } from '../core/charger.js';
import { CurrentState, errorNamesLsb, errorNamesMsb, OutputState, PlugState } from './protocol/enums.js';
import type { EvseMessage, MessageOf } from './protocol/message.js';

/** Which bit numbering turns the error field into names (§6: the sources disagree). */
export type ErrorBitOrder = 'lsb' | 'msb';

export interface ReduceContext {
  now: number;
  errorBitOrder: ErrorBitOrder;
  /** The idTag given to the start we sent; it belongs to the next session the charger reports. */
  pendingIdTag?: string | null;
}

/** Apply one message from the charger. Returns the same object when nothing changed. */
export function reduceMessage(state: ChargerState, message: EvseMessage, ctx: ReduceContext): ChargerState {
  switch (message.type) {
    case 'status':
      return applyStatus(state, message, ctx);
    case 'charging_status':
      return applyChargingStatus(state, message, ctx);
    case 'max_current':
      return message.currentA === null
        ? state
        : { ...state, maxCurrentA: message.currentA, updatedAt: ctx.now };
    case 'nickname':
      return message.name === null ? state : withSettings(state, { name: message.name }, ctx.now);
    case 'language':
      return message.languageName === null
        ? state
        : withSettings(state, { language: message.languageName }, ctx.now);
    case 'temperature_unit':
      if (message.unit === 1) return withSettings(state, { temperatureUnit: 'celsius' }, ctx.now);
      if (message.unit === 2) return withSettings(state, { temperatureUnit: 'fahrenheit' }, ctx.now);
      return state;
    default:
      return state;
  }
}

function withSettings(
  state: ChargerState,
  patch: Partial<ChargerState['settings']>,
  now: number,
): ChargerState {
  return { ...state, settings: { ...state.settings, ...patch }, updatedAt: now };
}

function applyStatus(state: ChargerState, s: MessageOf<'status'>, ctx: ReduceContext): ChargerState {
  const phases = [{ voltageV: s.l1VoltageV, currentA: s.l1CurrentA }];
  if (s.l2VoltageV !== null || s.l3VoltageV !== null) {
    phases.push({ voltageV: s.l2VoltageV ?? 0, currentA: s.l2CurrentA ?? 0 });
    phases.push({ voltageV: s.l3VoltageV ?? 0, currentA: s.l3CurrentA ?? 0 });
  }
  const errors =
    ctx.errorBitOrder === 'lsb' ? errorNamesLsb(s.errorBits) : errorNamesMsb(s.errorBits, s.errorWidthBits);
  // On 3-phase units the power field holds one phase only, so take the larger of it and Σ V·I.
  const powerW = Math.round(Math.max(s.powerW, s.sumPowerW));
  // The lifetime register feeds the Energy dashboard: a glitch downwards must never reach it.
  const energyTotalKwh =
    state.energyTotalKwh !== null && s.energyTotalKwh < state.energyTotalKwh
      ? state.energyTotalKwh
      : s.energyTotalKwh;
  const plugged = s.plugState !== PlugState.Disconnected && s.plugState !== 0;
  const charging = s.outputState === OutputState.Charging;
  const next: ChargerState = {
    ...state,
    plugged,
    charging,
    powerW: charging ? powerW : 0,
    energyTotalKwh,
    phases,
    temperatureInnerC: s.innerTemperatureC,
    temperatureOuterC: s.outerTemperatureC,
    errors,
    scheduledStartAt: s.currentState === CurrentState.ChargingReservation ? state.scheduledStartAt : null,
    // Raw codes for diagnostics; Home Assistant maps them to names (RAW_KEYS in homeassistant/enums.ts).
    raw: {
      ...state.raw,
      plugState: s.plugState,
      outputState: s.outputState,
      currentState: s.currentState,
      errorBits: s.errorBits,
      emergencyButton: s.emergencyButton,
    },
    updatedAt: ctx.now,
  };
  next.status = normaliseStatus(next, s.currentState);
  return next;
}

function applyChargingStatus(
  state: ChargerState,
  c: MessageOf<'charging_status'>,
  ctx: ReduceContext,
): ChargerState {
  const session: ChargerSession = {
    chargerSessionId: c.chargeId || null,
    startedAt: sessionStart(c.startTime.unixMs, c.elapsedS, ctx.now),
    energyKwh: c.sessionEnergyKwh,
    durationS: c.elapsedS,
    userId: c.userId || null,
    idTag:
      state.session?.chargerSessionId === (c.chargeId || null)
        ? (state.session?.idTag ?? null)
        : (ctx.pendingIdTag ?? null),
    currentA: c.currentLimitA || null,
    // Some firmware use 0 for "unlimited" as well as 0xFFFF (§4.5).
    limitEnergyKwh: c.maxEnergyKwh === 0 ? null : c.maxEnergyKwh,
    limitMinutes: c.maxDurationMinutes === 0 ? null : c.maxDurationMinutes,
  };
  const scheduledStartAt =
    c.currentState === CurrentState.ChargingReservation ? c.reservationTime.unixMs : state.scheduledStartAt;
  const next: ChargerState = { ...state, session, scheduledStartAt, updatedAt: ctx.now };
  if (c.currentState === CurrentState.ChargingReservation)
    next.status = normaliseStatus(next, c.currentState);
  return next;
}

/**
 * When the running session began. The BS20 tells it in whole seconds of its own clock, which we set
 * in whole seconds too: it can read up to 2 s early. The whole seconds it has counted since (at the
 * moment of this status) say it began at most 1 s before now − elapsed, so a start a little earlier
 * than that is moved there. A larger gap (a clock far off, a count that skips pauses) is left alone.
 */
function sessionStart(reported: number | null, elapsedS: number | null, now: number): number | null {
  if (reported === null || elapsedS === null || !Number.isFinite(elapsedS) || elapsedS < 0) return reported;
  const notBefore = now - (elapsedS + 1) * 1000;
  return reported < notBefore && notBefore - reported <= 2_000 ? notBefore : reported;
}

/**
 * One vocabulary for every charger: available, plugged, charging, suspended, finished, scheduled,
 * error, offline. Follows the OEM app's reading of the current-state byte (§6).
 */
export function normaliseStatus(state: ChargerState, currentState: number): ChargerStatus {
  if (state.link !== 'online') return 'offline';
  if (
    state.errors.length > 0 ||
    currentState === CurrentState.EvseFault ||
    currentState === 2 ||
    currentState === 3
  ) {
    return 'error';
  }
  if (currentState === CurrentState.ChargingReservation) return 'scheduled';
  if (state.charging) return 'charging';
  if (currentState === CurrentState.Charging) return state.plugged ? 'suspended' : 'available';
  if (currentState === CurrentState.Completed || currentState === CurrentState.CompletedFullCharge) {
    return state.plugged ? 'finished' : 'available';
  }
  return state.plugged ? 'plugged' : 'available';
}
