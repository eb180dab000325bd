/** A plain snapshot of the simulated charger, for tests, the demo and benchmarks. */
import type { ChargePhase, ChargePoint } from './charge-point.js';
import type { SimSettings } from './requests.js';
import type { LoginPhase } from './simulated-bs20.js';

export interface SimulatedSessionState {
  chargeId: string;
  userId: string;
  /** Setpoint of this session (follows 0x8107 SET while charging). */
  currentA: number;
  /** Null while only scheduled. */
  startedAtMs: number | null;
  /** Injected-clock time a scheduled start falls due; null for an immediate start. */
  dueAtMs: number | null;
  energyKwh: number;
  maxEnergyKwh: number | null;
  maxDurationMinutes: number | null;
  param3: number;
}

export interface SimulatedBs20State {
  localName: string;
  connected: boolean;
  loginPhase: LoginPhase;
  loggedIn: boolean;
  chargePhase: ChargePhase;
  plugState: number;
  outputState: number;
  currentState: number;
  carConnected: boolean;
  carSocPercent: number | null;
  /** The 0x0107 value. */
  configuredCurrentA: number;
  /** Current per phase actually flowing. */
  actualCurrentA: number;
  /** Σ over phases of V × I. */
  powerW: number;
  /** Lifetime register as sent (0.01 kWh steps). */
  energyTotalKwh: number;
  /** Unrounded lifetime energy. */
  energyTotalWh: number;
  errorBits: number;
  temperatureC: number;
  session: SimulatedSessionState | null;
  pendingChargeRecords: number;
  settings: Readonly<SimSettings>;
}

export function snapshotState(
  cp: ChargePoint,
  settings: SimSettings,
  link: {
    localName: string;
    connected: boolean;
    loginPhase: LoginPhase;
    pendingChargeRecords: number;
    nowMs: number;
  },
): SimulatedBs20State {
  const s = cp.session;
  return {
    localName: link.localName,
    connected: link.connected,
    loginPhase: link.loginPhase,
    loggedIn: link.loginPhase === 'logged_in',
    chargePhase: cp.phase,
    plugState: cp.plugState(),
    outputState: cp.outputState(),
    currentState: cp.currentState(),
    carConnected: cp.carConnected,
    carSocPercent: cp.carSocPercent(),
    configuredCurrentA: cp.configuredCurrentA,
    actualCurrentA: cp.actualCurrentA(),
    powerW: cp.powerW(),
    energyTotalKwh: cp.energyRegister() / 100,
    energyTotalWh: cp.energyTotalWh(),
    errorBits: cp.errorBits,
    temperatureC: cp.temperatureC(),
    session: s
      ? {
          chargeId: s.chargeId,
          userId: s.userId,
          currentA: s.currentA,
          startedAtMs: s.startedAtMs,
          dueAtMs: s.dueAtMs,
          energyKwh: cp.sessionRegister() / 100,
          maxEnergyKwh: s.maxEnergyKwh,
          maxDurationMinutes: s.maxDurationMinutes,
          param3: s.param3,
        }
      : null,
    pendingChargeRecords: link.pendingChargeRecords,
    settings: { ...settings },
  };
}
