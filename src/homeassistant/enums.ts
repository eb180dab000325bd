/**
 * Fixed option lists for Home Assistant enum sensors and selects, and the maps from raw charger
 * codes to those names. The state mapper and the entity table both read from here, so a value the
 * mapper publishes is always one of the options the entity declares (HA rejects anything else).
 */

/** Every enum falls back to this for codes nobody has documented; the raw code is kept beside it. */
export const UNKNOWN = 'unknown';

/** BS20 gun/plug state (status byte 18). */
export const PLUG_STATES = ['disconnected', 'connected', 'locked', UNKNOWN] as const;
const PLUG_STATE_CODES: Record<number, (typeof PLUG_STATES)[number]> = {
  1: 'disconnected',
  2: 'connected',
  4: 'locked',
};

/** BS20 output (relay) state (status byte 19). */
export const OUTPUT_STATES = ['charging', 'idle', UNKNOWN] as const;
const OUTPUT_STATE_CODES: Record<number, (typeof OUTPUT_STATES)[number]> = { 1: 'charging', 2: 'idle' };

/** BS20 "current state" (status byte 20), emproto numbering. */
export const CHARGER_STATES = [
  'evse_fault',
  'charging_fault',
  'waiting_for_card',
  'waiting_for_button',
  'not_connected',
  'ready',
  'charging',
  'completed',
  'completed_full',
  'reservation',
  UNKNOWN,
] as const;
const CHARGER_STATE_CODES: Record<number, (typeof CHARGER_STATES)[number]> = {
  1: 'evse_fault',
  2: 'charging_fault',
  3: 'charging_fault',
  10: 'waiting_for_card',
  11: 'waiting_for_button',
  12: 'not_connected',
  13: 'ready',
  14: 'charging',
  15: 'completed',
  17: 'completed_full',
  20: 'reservation',
};

/** OCPP 1.6 ChargePointStatus in snake case. */
export const OCPP_STATUSES = [
  'available',
  'preparing',
  'charging',
  'suspended_evse',
  'suspended_ev',
  'finishing',
  'reserved',
  'unavailable',
  'faulted',
  UNKNOWN,
] as const;

/** Languages a BS20 accepts (cmd 0x810F), in the order of their codes 1…8. */
export const LANGUAGES = [
  'english',
  'italian',
  'german',
  'french',
  'spanish',
  'hebrew',
  'polish',
  'chinese',
] as const;
export type Language = (typeof LANGUAGES)[number];

export const TEMPERATURE_UNITS = ['celsius', 'fahrenheit'] as const;

/** Log levels the bridge's log_level select offers (pino names). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * Keys the charger adapters put in `ChargerState.raw` that this mapper reads. Values may be the
 * protocol's number or an already-mapped name.
 */
export const RAW_KEYS = {
  plugState: 'plugState',
  outputState: 'outputState',
  chargerState: 'currentState',
  ocppStatus: 'ocppStatus',
} as const;

export interface MappedCode<T extends string> {
  name: T;
  /** The raw value as received, for diagnostics (null when the charger sent none). */
  code: number | string | null;
}

function mapCode<T extends string>(
  raw: number | string | null | undefined,
  byCode: Record<number, T>,
  options: readonly T[],
): MappedCode<T> | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number') {
    return { name: byCode[raw] ?? (UNKNOWN as T), code: raw };
  }
  const normalised = toSnakeCase(raw);
  const known = options.find((o) => o === normalised);
  if (known) return { name: known, code: raw };
  const asNumber = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (Number.isInteger(asNumber)) return { name: byCode[asNumber] ?? (UNKNOWN as T), code: raw };
  return { name: UNKNOWN as T, code: raw };
}

/** `SuspendedEVSE` → `suspended_evse`, `Not Connected` → `not_connected`. */
export function toSnakeCase(text: string): string {
  return text
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

export const mapPlugState = (raw: number | string | null | undefined) =>
  mapCode(raw, PLUG_STATE_CODES, PLUG_STATES);
export const mapOutputState = (raw: number | string | null | undefined) =>
  mapCode(raw, OUTPUT_STATE_CODES, OUTPUT_STATES);
export const mapChargerState = (raw: number | string | null | undefined) =>
  mapCode(raw, CHARGER_STATE_CODES, CHARGER_STATES);
export const mapOcppStatus = (raw: number | string | null | undefined) => mapCode(raw, {}, OCPP_STATUSES);

/** A language setting as one of LANGUAGES, or null when unknown (a select must not get other values). */
export function normaliseLanguage(raw: string | null): Language | null {
  if (raw === null) return null;
  const lower = raw.trim().toLowerCase();
  return LANGUAGES.find((l) => l === lower) ?? null;
}
