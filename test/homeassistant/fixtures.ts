/** Sample chargers and states shared by the Home Assistant tests. */
import { type ChargerInfo, type ChargerState, emptyState } from '../../src/core/charger.js';
import { type ChargerCapabilities, describeCapabilities } from '../../src/homeassistant/capabilities.js';

export const T0 = Date.UTC(2026, 2, 1, 6, 30, 0);

export const ORIGIN = {
  name: 'chargebridge',
  sw_version: '0.1.0',
  support_url: 'https://example.invalid/issues',
};

export function bs20Info(phases: 1 | 3): ChargerInfo {
  return {
    manufacturer: 'Besen',
    model: 'BS20',
    serialNumber: '9181102751219513',
    firmwareVersion: '1.4.2',
    hardwareVersion: 'CDD',
    phases,
    hardwareMaxCurrentA: 32,
    maxPowerW: phases === 3 ? 22_000 : 7_400,
    bleAddress: '9C:A5:0E:C8:A2:12',
  };
}

export function ocppInfo(): ChargerInfo {
  return {
    manufacturer: 'Acme',
    model: 'Wallbox 11',
    serialNumber: null,
    firmwareVersion: null,
    hardwareVersion: null,
    phases: 3,
    hardwareMaxCurrentA: 16,
    maxPowerW: 11_000,
    bleAddress: null,
  };
}

export function bs20Caps(phases: 1 | 3, extra: Partial<ChargerCapabilities> = {}): ChargerCapabilities {
  return {
    ...describeCapabilities({ kind: 'bs20', phases, maxCurrentA: 16, configurable: true, clock: true }),
    ...extra,
  };
}

export function ocppCaps(extra: Partial<ChargerCapabilities> = {}): ChargerCapabilities {
  return {
    ...describeCapabilities({ kind: 'ocpp', phases: 3, maxCurrentA: 16, configurable: false, clock: false }),
    ...extra,
  };
}

/** Every optional entity switched on: sessions, users, costs. */
export function fullBs20Caps(phases: 1 | 3): ChargerCapabilities {
  return bs20Caps(phases, { sessions: true, users: ['alice', 'bob'], currency: 'EUR' });
}

export function idleState(): ChargerState {
  return {
    ...emptyState(T0),
    link: 'online',
    status: 'available',
    powerW: 0,
    energyTotalKwh: 1234.56,
    phases: [{ voltageV: 229.8, currentA: 0 }],
    temperatureInnerC: 21.5,
    temperatureOuterC: 18.25,
    maxCurrentA: 16,
    settings: { name: 'Garage', language: 'English', temperatureUnit: 'celsius' },
    rssiDbm: -71,
    raw: { plugState: 1, outputState: 2, currentState: 12 },
  };
}

export function chargingState(): ChargerState {
  return {
    ...emptyState(T0),
    link: 'online',
    status: 'charging',
    plugged: true,
    charging: true,
    powerW: 230.1 * 16 + 230.2 * 15 + 230.3 * 14,
    energyTotalKwh: 1234.5678,
    phases: [
      { voltageV: 230.1, currentA: 16 },
      { voltageV: 230.2, currentA: 15 },
      { voltageV: 230.3, currentA: 14 },
    ],
    temperatureInnerC: 25,
    temperatureOuterC: 20,
    maxCurrentA: 16,
    session: {
      chargerSessionId: '202603010730001',
      startedAt: T0 - 3_600_000,
      energyKwh: 10.5,
      durationS: 3600,
      userId: 'alice',
      idTag: null,
      currentA: 16,
      limitEnergyKwh: 20,
      limitMinutes: null,
    },
    settings: { name: 'Garage', language: 'german', temperatureUnit: 'celsius' },
    rssiDbm: -60,
    raw: { plugState: 4, outputState: 1, currentState: 14, errorBits: 0 },
  };
}

export function faultState(): ChargerState {
  return {
    ...emptyState(T0),
    link: 'online',
    status: 'error',
    plugged: true,
    errors: ['over_temperature_inner', 'leakage_protection'],
    energyTotalKwh: 99.1,
    phases: [{ voltageV: null, currentA: null }],
    settings: { name: null, language: 'klingon', temperatureUnit: null },
    // Codes nobody has documented must still map to an option.
    raw: { plugState: 16, outputState: 7, currentState: 19, errorBits: 0x40 },
  };
}

export function ocppState(): ChargerState {
  return {
    ...emptyState(T0),
    link: 'online',
    status: 'suspended',
    plugged: true,
    energyTotalKwh: 500,
    phases: [
      { voltageV: 231, currentA: 0 },
      { voltageV: 232, currentA: 0 },
      { voltageV: 233, currentA: 0 },
    ],
    maxCurrentA: 10,
    raw: { ocppStatus: 'SuspendedEV' },
  };
}

export const SAMPLE_STATES: Record<string, () => ChargerState> = {
  empty: () => emptyState(T0),
  idle: idleState,
  charging: chargingState,
  fault: faultState,
  ocpp: ocppState,
};
