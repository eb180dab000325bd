/**
 * The one idea of chargebridge: every charger, whatever its link (BS20 over BLE, an OCPP station),
 * is a `Charger` in the core. Publishers (Home Assistant, OCPP client, sessions, metrics) only ever
 * see this interface. Optional capabilities are separate interfaces, checked with type guards.
 */
import type { TypedEmitter } from './emitter.js';

export type ChargerKind = 'bs20' | 'ocpp';

/** State of the link to the charger itself (BLE connection or OCPP websocket). */
export type LinkState = 'connecting' | 'online' | 'offline' | 'auth_failed' | 'no_adapter';

/** Normalised status, the same words for every kind of charger. */
export const CHARGER_STATUSES = [
  'available',
  'plugged',
  'charging',
  'suspended',
  'finished',
  'scheduled',
  'error',
  'offline',
] as const;
export type ChargerStatus = (typeof CHARGER_STATUSES)[number];

export interface PhaseReading {
  voltageV: number | null;
  currentA: number | null;
}

/** Slow-changing identity of a charger (device page in Home Assistant, OCPP BootNotification). */
export interface ChargerInfo {
  manufacturer: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
  hardwareVersion: string | null;
  phases: 1 | 3;
  /** Highest current the hardware accepts (before the user's configured ceiling). */
  hardwareMaxCurrentA: number;
  maxPowerW: number | null;
  /** BLE MAC address, when the link is Bluetooth. */
  bleAddress: string | null;
}

/** The charger's own view of its current (or last) charging session. */
export interface ChargerSession {
  /** BS20 chargeId or OCPP transactionId, as text. */
  chargerSessionId: string | null;
  startedAt: number | null;
  energyKwh: number | null;
  durationS: number | null;
  userId: string | null;
  idTag: string | null;
  currentA: number | null;
  limitEnergyKwh: number | null;
  limitMinutes: number | null;
  /**
   * The charger ended this session (OCPP StopTransaction), with its reason word; absent while it
   * runs or when the charger never says (a BS20 session ends when the car leaves).
   */
  endedAt?: number | null;
  stopReason?: string | null;
}

export interface ChargerSettings {
  name: string | null;
  language: string | null;
  temperatureUnit: 'celsius' | 'fahrenheit' | null;
}

export interface ChargerState {
  link: LinkState;
  status: ChargerStatus;
  /** A car is connected. */
  plugged: boolean;
  /** Energy is flowing (output relay on). */
  charging: boolean;
  powerW: number | null;
  /** Lifetime energy register of the charger: never goes down (Energy dashboard). */
  energyTotalKwh: number | null;
  /** L1..L3 (one entry on single-phase chargers). */
  phases: PhaseReading[];
  temperatureInnerC: number | null;
  temperatureOuterC: number | null;
  /** The charging current setpoint currently in force, in amps. */
  maxCurrentA: number | null;
  /** Active error names (e.g. `over_temperature_inner`), empty when healthy. */
  errors: string[];
  session: ChargerSession | null;
  /** Scheduled (delayed) start, epoch ms. */
  scheduledStartAt: number | null;
  settings: ChargerSettings;
  rssiDbm: number | null;
  /** Raw protocol codes for diagnostics (plug state, output state, error bits…). */
  raw: Record<string, number | string | null>;
  /** Epoch ms of the last update from the charger. */
  updatedAt: number;
}

export interface StartChargingOptions {
  /** Amps for this session; defaults to the current setpoint. Clamped to the configured ceiling. */
  currentA?: number;
  /** Who the session belongs to (configured user name). */
  userId?: string;
  idTag?: string;
  limitEnergyKwh?: number;
  limitMinutes?: number;
  /** Delayed start, epoch ms. */
  startAt?: number;
}

/** Discrete things that happened, for HA event entities, the session tracker and logs. */
export type ChargerEventType =
  | 'link_up'
  | 'link_lost'
  | 'auth_failed'
  | 'plugged'
  | 'unplugged'
  | 'charging_started'
  | 'charging_stopped'
  | 'error_raised'
  | 'error_cleared'
  | 'rfid'
  /**
   * The charger's own record of a finished session (BS20 0x000A): data `chargerSessionId`,
   * `startedAt`, `endedAt`, `meterStartKwh`, `meterStopKwh`, `energyKwh`, `reason`.
   */
  | 'charge_record';

export interface ChargerEvent {
  type: ChargerEventType;
  at: number;
  data?: Record<string, unknown>;
}

export type ChargerEvents = {
  state: [state: ChargerState, previous: ChargerState];
  event: [event: ChargerEvent];
};

export type CommandErrorCode =
  | 'offline'
  | 'invalid'
  | 'out_of_range'
  | 'not_plugged'
  | 'busy'
  | 'rejected'
  | 'timeout'
  | 'not_supported';

/** A command that did not happen. Always carries a reason a user can read. */
export class ChargerCommandError extends Error {
  readonly code: CommandErrorCode;
  constructor(code: CommandErrorCode, message: string) {
    super(message);
    this.name = 'ChargerCommandError';
    this.code = code;
  }
}

export interface Charger {
  readonly id: string;
  readonly name: string;
  readonly kind: ChargerKind;
  readonly events: TypedEmitter<ChargerEvents>;
  getState(): ChargerState;
  getInfo(): ChargerInfo;
  /** Upper bound for any current command: min(hardware limit, configured ceiling). */
  getCurrentCeilingA(): number;
  /** Start the link (connect, log in, reconnect by itself). */
  open(): Promise<void>;
  /** Close the link for good. */
  close(): Promise<void>;
  startCharging(options?: StartChargingOptions): Promise<void>;
  stopCharging(): Promise<void>;
  setMaxCurrent(amps: number): Promise<void>;
}

/** Optional: chargers with their own settings (BS20 name, language, temperature unit). */
export interface ConfigurableCharger extends Charger {
  setName(name: string): Promise<void>;
  setLanguage(language: string): Promise<void>;
  setTemperatureUnit(unit: 'celsius' | 'fahrenheit'): Promise<void>;
}

/** Optional: chargers whose clock can be set. */
export interface ClockedCharger extends Charger {
  syncClock(): Promise<void>;
}

/** Optional: chargers that can be rebooted remotely (an OCPP station's Reset; a BS20 cannot). */
export interface RestartableCharger extends Charger {
  restart(): Promise<void>;
}

export function isConfigurable(c: Charger): c is ConfigurableCharger {
  const candidate = c as Partial<ConfigurableCharger>;
  return typeof candidate.setName === 'function' && typeof candidate.setLanguage === 'function';
}

export function isClocked(c: Charger): c is ClockedCharger {
  return typeof (c as Partial<ClockedCharger>).syncClock === 'function';
}

export function isRestartable(c: Charger): c is RestartableCharger {
  return typeof (c as Partial<RestartableCharger>).restart === 'function';
}

/** Smallest current the IEC 61851 pilot signal allows. */
export const MIN_CHARGING_CURRENT_A = 6;

/**
 * Checks a requested current against the charger's range. Never rounds up, never clamps silently
 * above the ceiling: out-of-range input is an error the user sees.
 */
export function checkCurrent(amps: unknown, ceilingA: number): number {
  if (typeof amps !== 'number' || !Number.isFinite(amps)) {
    throw new ChargerCommandError('invalid', `current must be a number of amps, got ${JSON.stringify(amps)}`);
  }
  if (!Number.isInteger(amps)) {
    throw new ChargerCommandError('invalid', `current must be a whole number of amps, got ${amps}`);
  }
  if (amps < MIN_CHARGING_CURRENT_A || amps > ceilingA) {
    throw new ChargerCommandError(
      'out_of_range',
      `current ${amps} A is outside ${MIN_CHARGING_CURRENT_A}…${ceilingA} A allowed for this charger`,
    );
  }
  return amps;
}

export function emptyState(now: number): ChargerState {
  return {
    link: 'offline',
    status: 'offline',
    plugged: false,
    charging: false,
    powerW: null,
    energyTotalKwh: null,
    phases: [],
    temperatureInnerC: null,
    temperatureOuterC: null,
    maxCurrentA: null,
    errors: [],
    session: null,
    scheduledStartAt: null,
    settings: { name: null, language: null, temperatureUnit: null },
    rssiDbm: null,
    raw: {},
    updatedAt: now,
  };
}
