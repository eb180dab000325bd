/**
 * Pure, tolerant reading of OCPP 1.6 MeterValues (ocpp.md §2.4, §3 item 6). Real chargers send
 * numbers instead of strings, kW instead of W, `Celcius`, `L1` instead of `L1-N`, units the spec
 * does not know: whatever can be understood safely is kept, the rest is reported as an issue.
 */

export type PhaseValues = [number | null, number | null, number | null];

/** The newest value of every measurand we understand, in base units. */
export interface MeterReading {
  /** Epoch ms of the newest meterValue that carried a value (null: no usable timestamp). */
  at: number | null;
  energyImportWh: number | null;
  powerImportW: number | null;
  /** Per phase L1..L3; a current without a phase is `currentA` instead. */
  currentPhaseA: PhaseValues;
  currentA: number | null;
  /** Phase-to-neutral voltages L1..L3; a voltage without a phase is `voltageV`. */
  voltagePhaseV: PhaseValues;
  voltageV: number | null;
  currentOfferedA: number | null;
  powerOfferedW: number | null;
  temperatureC: number | null;
  socPercent: number | null;
}

export interface MeterParse {
  reading: MeterReading;
  /** `transactionId` when the message names one. */
  transactionId: number | null;
  connectorId: number | null;
  /** Sampled values skipped and why (for a warn log; never fatal). */
  issues: string[];
}

export function emptyReading(): MeterReading {
  return {
    at: null,
    energyImportWh: null,
    powerImportW: null,
    currentPhaseA: [null, null, null],
    currentA: null,
    voltagePhaseV: [null, null, null],
    voltageV: null,
    currentOfferedA: null,
    powerOfferedW: null,
    temperatureC: null,
    socPercent: null,
  };
}

const SCALE: Record<string, Record<string, number>> = {
  energy: { wh: 1, kwh: 1000 },
  power: { w: 1, kw: 1000 },
  current: { a: 1 },
  voltage: { v: 1 },
  percent: { percent: 1, '%': 1 },
};

type Kind = 'energy' | 'power' | 'current' | 'voltage' | 'temperature' | 'percent';

const MEASURANDS: Record<string, { kind: Kind; field: keyof MeterReading } | undefined> = {
  'energy.active.import.register': { kind: 'energy', field: 'energyImportWh' },
  'power.active.import': { kind: 'power', field: 'powerImportW' },
  'current.import': { kind: 'current', field: 'currentA' },
  voltage: { kind: 'voltage', field: 'voltageV' },
  'current.offered': { kind: 'current', field: 'currentOfferedA' },
  'power.offered': { kind: 'power', field: 'powerOfferedW' },
  temperature: { kind: 'temperature', field: 'temperatureC' },
  soc: { kind: 'percent', field: 'socPercent' },
};

/** Measurands we know and ignore on purpose (no entity for them). */
const IGNORED = new Set([
  'energy.active.export.register',
  'energy.reactive.export.register',
  'energy.reactive.import.register',
  'energy.active.export.interval',
  'energy.active.import.interval',
  'energy.reactive.export.interval',
  'energy.reactive.import.interval',
  'power.active.export',
  'power.reactive.export',
  'power.reactive.import',
  'power.factor',
  'current.export',
  'frequency',
  'rpm',
]);

const DEFAULT_UNIT: Record<Kind, string> = {
  energy: 'wh',
  power: 'w',
  current: 'a',
  voltage: 'v',
  temperature: 'celsius',
  percent: 'percent',
};

/** Phase index for L1..L3 (`L1`, `L1-N`); null for no phase; undefined for one we cannot use. */
function phaseIndex(phase: unknown): 0 | 1 | 2 | null | undefined {
  if (phase === undefined || phase === null || phase === '') return null;
  if (typeof phase !== 'string') return undefined;
  const match = /^L([123])(-N)?$/i.exec(phase.trim());
  if (!match) return undefined;
  return (Number(match[1]) - 1) as 0 | 1 | 2;
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  // A decimal comma is a common slip in hand-written firmware.
  const n = Number(value.trim().replace(/^(-?\d+),(\d+)$/, '$1.$2'));
  return Number.isFinite(n) ? n : null;
}

function convert(kind: Kind, unit: string, value: number): number | null {
  if (kind === 'temperature') {
    if (unit === 'celsius' || unit === 'celcius') return value;
    if (unit === 'fahrenheit') return ((value - 32) * 5) / 9;
    if (unit === 'k') return value - 273.15;
    return null;
  }
  const factor = SCALE[kind]?.[unit];
  return factor === undefined ? null : value * factor;
}

function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a MeterValues request as received (unknown shape). Never throws. */
export function parseMeterValues(params: unknown): MeterParse {
  const reading = emptyReading();
  const issues: string[] = [];
  const out: MeterParse = { reading, transactionId: null, connectorId: null, issues };
  if (!isRecord(params)) {
    issues.push('not an object');
    return out;
  }
  const connector = toNumber(params.connectorId);
  out.connectorId = connector !== null && Number.isInteger(connector) && connector >= 0 ? connector : null;
  const tx = toNumber(params.transactionId);
  out.transactionId = tx !== null && Number.isInteger(tx) ? tx : null;
  if (!Array.isArray(params.meterValue)) {
    issues.push('meterValue is not a list');
    return out;
  }
  // Oldest first, so the newest value of each measurand wins.
  const entries = params.meterValue
    .map((entry, index) => ({ entry, index, at: isRecord(entry) ? parseTime(entry.timestamp) : null }))
    .sort(
      (a, b) => (a.at ?? Number.NEGATIVE_INFINITY) - (b.at ?? Number.NEGATIVE_INFINITY) || a.index - b.index,
    );
  const phaseSums = { energyImportWh: new Map<number, number>(), powerImportW: new Map<number, number>() };
  for (const { entry, index, at } of entries) {
    if (!isRecord(entry) || !Array.isArray(entry.sampledValue)) {
      issues.push(`meterValue[${index}] has no sampledValue list`);
      continue;
    }
    if (at === null) issues.push(`meterValue[${index}] has no valid timestamp`);
    let used = false;
    for (const [s, sample] of entry.sampledValue.entries()) {
      const where = `meterValue[${index}].sampledValue[${s}]`;
      if (!isRecord(sample)) {
        issues.push(`${where} is not an object`);
        continue;
      }
      const problem = applySample(reading, sample, phaseSums);
      if (problem) issues.push(`${where}: ${problem}`);
      else used = true;
    }
    if (used && at !== null) reading.at = Math.max(reading.at ?? at, at);
  }
  // Per-phase energy/power only: their sum is the total.
  for (const field of ['energyImportWh', 'powerImportW'] as const) {
    const parts = phaseSums[field];
    if (reading[field] === null && parts.size > 0)
      reading[field] = [...parts.values()].reduce((a, b) => a + b, 0);
  }
  return out;
}

/**
 * 10 GWh: a wallbox at 22 kW around the clock needs 50 years for that. A register above it is a
 * broken or hostile meter, and since the lifetime total only goes up it would stay there for good.
 */
export const MAX_PLAUSIBLE_REGISTER_WH = 1e10;

/** A register value we can use: not negative, not beyond any real meter. */
export function isPlausibleRegisterWh(wh: number): boolean {
  return Number.isFinite(wh) && wh >= 0 && wh <= MAX_PLAUSIBLE_REGISTER_WH;
}

function applySample(
  reading: MeterReading,
  sample: Record<string, unknown>,
  phaseSums: Record<'energyImportWh' | 'powerImportW', Map<number, number>>,
): string | null {
  const measurandName =
    typeof sample.measurand === 'string' ? sample.measurand : 'Energy.Active.Import.Register';
  const key = measurandName.trim().toLowerCase();
  if (IGNORED.has(key)) return null;
  const spec = MEASURANDS[key];
  if (!spec) return `unknown measurand ${JSON.stringify(measurandName)}`;
  if (sample.format === 'SignedData') return 'signed data is not read';
  const raw = toNumber(sample.value);
  if (raw === null) return `value ${JSON.stringify(sample.value)} is not a number`;
  const unit =
    typeof sample.unit === 'string' && sample.unit.trim() !== ''
      ? sample.unit.trim().toLowerCase()
      : DEFAULT_UNIT[spec.kind];
  const value = convert(spec.kind, unit, raw);
  if (value === null) return `unit ${JSON.stringify(sample.unit)} does not fit ${measurandName}`;
  // An import register only counts up from zero: a negative one is a broken meter, not a reading.
  if (spec.kind === 'energy' && value < 0) return `negative energy register ${JSON.stringify(sample.value)}`;
  if (spec.kind === 'energy' && !isPlausibleRegisterWh(value))
    return `energy register ${JSON.stringify(sample.value)} is beyond any real meter`;
  const phase = phaseIndex(sample.phase);
  if (phase === undefined) {
    // Line-to-line voltages and neutral currents have no place in the per-phase readings.
    return `phase ${JSON.stringify(sample.phase)} is not used for ${measurandName}`;
  }
  if (phase === null) {
    (reading[spec.field] as number | null) = value;
    return null;
  }
  if (spec.field === 'currentA') reading.currentPhaseA[phase] = value;
  else if (spec.field === 'voltageV') reading.voltagePhaseV[phase] = value;
  else if (spec.field === 'energyImportWh' || spec.field === 'powerImportW')
    phaseSums[spec.field].set(phase, value);
  // Offered current/power, temperature, SoC per phase: the first phase stands for all.
  else if (reading[spec.field] === null || phase === 0) (reading[spec.field] as number | null) = value;
  return null;
}
