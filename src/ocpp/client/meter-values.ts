/**
 * Pure: the BS20 readings as OCPP 1.6 sampled values (ocpp.md §2.4). Values are strings, energy is
 * the lifetime register in whole Wh, voltages are phase-to-neutral (L1-N…), currents per phase.
 */
import type { ChargerState } from '../../core/charger.js';
import type { Measurand, MeterValue, SampledValue } from '../types.js';
import { ocppTimestamp } from '../types.js';

/** What the bridge can measure, in the order it reports them. */
export const SUPPORTED_MEASURANDS = [
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'Current.Import',
  'Voltage',
  'Temperature',
  'Current.Offered',
  'Power.Offered',
] as const satisfies readonly Measurand[];

export type SupportedMeasurand = (typeof SUPPORTED_MEASURANDS)[number];

export type ReadingContext = NonNullable<SampledValue['context']>;

/** Nominal phase voltage for offered power and W↔A conversions. */
export const NOMINAL_VOLTAGE_V = 230;

export interface SampleInput {
  state: ChargerState;
  /** The current we currently allow (0 while paused), or null when unknown. */
  offeredCurrentA: number | null;
  /** Phases the charger feeds (for offered power). */
  phases: 1 | 3;
}

const PHASE_NAMES = ['L1', 'L2', 'L3'] as const;
const VOLTAGE_PHASES = ['L1-N', 'L2-N', 'L3-N'] as const;

/** The lifetime register in whole Wh (meterStart/meterStop), or null before the first reading. */
export function energyRegisterWh(state: ChargerState): number | null {
  return state.energyTotalKwh === null ? null : Math.round(state.energyTotalKwh * 1000);
}

/** One MeterValue with the requested measurands that have a reading; empty sampledValue when none. */
export function sampleMeterValue(
  input: SampleInput,
  measurands: readonly SupportedMeasurand[],
  context: ReadingContext,
  atMs: number,
): MeterValue {
  const sampledValue: SampledValue[] = [];
  const { state } = input;
  const add = (value: number, measurand: SupportedMeasurand, unit: SampledValue['unit'], extra = {}) => {
    if (!Number.isFinite(value)) return;
    sampledValue.push({ value: format(value), context, measurand, unit, ...extra });
  };
  for (const measurand of measurands) {
    switch (measurand) {
      case 'Energy.Active.Import.Register': {
        const wh = energyRegisterWh(state);
        if (wh !== null) add(wh, measurand, 'Wh');
        break;
      }
      case 'Power.Active.Import':
        if (state.powerW !== null) add(state.powerW, measurand, 'W');
        break;
      case 'Current.Import':
        state.phases.forEach((p, i) => {
          if (p.currentA !== null) add(p.currentA, measurand, 'A', { phase: PHASE_NAMES[i] });
        });
        break;
      case 'Voltage':
        state.phases.forEach((p, i) => {
          if (p.voltageV !== null) add(p.voltageV, measurand, 'V', { phase: VOLTAGE_PHASES[i] });
        });
        break;
      case 'Temperature':
        // "Celcius": the original OCA 1.6 JSON schema knows only this spelling (voltbras and ocpp-ts
        // refuse "Celsius", which the errata added); every 1.6 schema accepts it.
        if (state.temperatureInnerC !== null) {
          add(state.temperatureInnerC, measurand, 'Celcius', { location: 'Body' });
        }
        break;
      case 'Current.Offered':
        if (input.offeredCurrentA !== null) add(input.offeredCurrentA, measurand, 'A');
        break;
      case 'Power.Offered':
        if (input.offeredCurrentA !== null) {
          add(input.offeredCurrentA * NOMINAL_VOLTAGE_V * input.phases, measurand, 'W');
        }
        break;
    }
  }
  return { timestamp: ocppTimestamp(atMs), sampledValue };
}

/** Integers as integers, the rest with at most two decimals ("230.4", never "230.40000001"). */
function format(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/**
 * Parses a MeterValuesSampledData-style list ("Energy.Active.Import.Register,Voltage"). Every
 * element must be one we can measure; an empty list is allowed (nothing sampled).
 */
export function parseMeasurandList(
  csl: string,
): { ok: true; measurands: SupportedMeasurand[] } | { ok: false; reason: string } {
  const items = csl
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const measurands: SupportedMeasurand[] = [];
  for (const item of items) {
    const known = SUPPORTED_MEASURANDS.find((m) => m.toLowerCase() === item.toLowerCase());
    if (!known) return { ok: false, reason: `${item} is not measured by this charge point` };
    if (!measurands.includes(known)) measurands.push(known);
  }
  return { ok: true, measurands };
}
