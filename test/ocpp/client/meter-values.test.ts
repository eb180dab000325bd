import { describe, expect, it } from 'vitest';
import { type ChargerState, emptyState } from '../../../src/core/charger.js';
import {
  energyRegisterWh,
  parseMeasurandList,
  SUPPORTED_MEASURANDS,
  sampleMeterValue,
} from '../../../src/ocpp/client/meter-values.js';
import { validateCall } from './frames.js';

const AT = Date.UTC(2026, 0, 15, 12, 0, 0);

function state(patch: Partial<ChargerState>): ChargerState {
  return { ...emptyState(0), link: 'online', ...patch };
}

const threePhase = state({
  charging: true,
  powerW: 11_040.4,
  energyTotalKwh: 1234.567,
  phases: [
    { voltageV: 230.1, currentA: 16 },
    { voltageV: 229.87, currentA: 15.9 },
    { voltageV: 231, currentA: 16.04 },
  ],
  temperatureInnerC: 41.25,
});

describe('sampleMeterValue', () => {
  it('reports every measurand with units, phases and string values', () => {
    const mv = sampleMeterValue(
      { state: threePhase, offeredCurrentA: 16, phases: 3 },
      SUPPORTED_MEASURANDS,
      'Sample.Periodic',
      AT,
    );
    expect(mv.timestamp).toBe('2026-01-15T12:00:00.000Z');
    const rows = mv.sampledValue.map((v) => [v.measurand, v.phase ?? '', v.value, v.unit]);
    expect(rows).toEqual([
      ['Energy.Active.Import.Register', '', '1234567', 'Wh'],
      ['Power.Active.Import', '', '11040.4', 'W'],
      ['Current.Import', 'L1', '16', 'A'],
      ['Current.Import', 'L2', '15.9', 'A'],
      ['Current.Import', 'L3', '16.04', 'A'],
      ['Voltage', 'L1-N', '230.1', 'V'],
      ['Voltage', 'L2-N', '229.87', 'V'],
      ['Voltage', 'L3-N', '231', 'V'],
      ['Temperature', '', '41.25', 'Celcius'],
      ['Current.Offered', '', '16', 'A'],
      ['Power.Offered', '', '11040', 'W'],
    ]);
    expect(mv.sampledValue.every((v) => v.context === 'Sample.Periodic')).toBe(true);
    expect(mv.sampledValue.find((v) => v.measurand === 'Temperature')?.location).toBe('Body');
    // The whole thing is a valid MeterValues request.
    expect(validateCall('MeterValues', { connectorId: 1, transactionId: 5, meterValue: [mv] })).toEqual([]);
  });

  it('leaves out what has no reading and keeps the requested order', () => {
    const mv = sampleMeterValue(
      {
        state: state({ energyTotalKwh: null, powerW: null, phases: [{ voltageV: 230, currentA: null }] }),
        offeredCurrentA: null,
        phases: 1,
      },
      ['Voltage', 'Energy.Active.Import.Register', 'Current.Import', 'Current.Offered'],
      'Trigger',
      AT,
    );
    expect(mv.sampledValue).toEqual([
      { value: '230', context: 'Trigger', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
    ]);
  });

  it('energy register in whole Wh, null before the first reading', () => {
    expect(energyRegisterWh(state({ energyTotalKwh: 1234.56 }))).toBe(1_234_560);
    expect(energyRegisterWh(state({ energyTotalKwh: 0.0004 }))).toBe(0);
    expect(energyRegisterWh(state({ energyTotalKwh: null }))).toBeNull();
  });
});

describe('parseMeasurandList', () => {
  it('accepts known measurands in any case, without duplicates', () => {
    expect(parseMeasurandList('voltage, Energy.Active.Import.Register,Voltage')).toEqual({
      ok: true,
      measurands: ['Voltage', 'Energy.Active.Import.Register'],
    });
    expect(parseMeasurandList('')).toEqual({ ok: true, measurands: [] });
  });

  it('refuses what the BS20 cannot measure (evcc probes SoC)', () => {
    expect(parseMeasurandList('Energy.Active.Import.Register,SoC')).toEqual({
      ok: false,
      reason: 'SoC is not measured by this charge point',
    });
    expect(parseMeasurandList('Frequency').ok).toBe(false);
  });
});
