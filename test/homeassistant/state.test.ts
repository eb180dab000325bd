import { describe, expect, it } from 'vitest';
import { emptyState } from '../../src/core/charger.js';
import {
  CHARGER_STATES,
  mapChargerState,
  mapOcppStatus,
  mapOutputState,
  mapPlugState,
  OUTPUT_STATES,
  PLUG_STATES,
  toSnakeCase,
} from '../../src/homeassistant/enums.js';
import { eventToJson } from '../../src/homeassistant/events.js';
import { formatLocalIso, parseDateTime } from '../../src/homeassistant/local-time.js';
import { chargerAvailability, chargerStateToJson } from '../../src/homeassistant/state.js';
import { chargingState, faultState, idleState, ocppState, SAMPLE_STATES, T0 } from './fixtures.js';

describe('chargerStateToJson', () => {
  it('maps an idle single-phase BS20 with units in the keys', () => {
    const json = chargerStateToJson(idleState());
    expect(json).toMatchObject({
      status: 'available',
      link: 'online',
      plugged: false,
      charging_active: false,
      charging_enabled: false,
      problem: false,
      error: 'none',
      power_w: 0,
      energy_total_kwh: 1234.56,
      voltage_l1_v: 229.8,
      voltage_l2_v: null,
      voltage_l3_v: null,
      current_l1_a: 0,
      temperature_inner_c: 21.5,
      temperature_outer_c: 18.3,
      max_current_a: 16,
      rssi_dbm: -71,
      plug_state: 'disconnected',
      plug_state_code: 1,
      output_state: 'idle',
      charger_state: 'not_connected',
      charger_state_code: 12,
      ocpp_status: null,
      name: 'Garage',
      language: 'english',
      temperature_unit: 'celsius',
    });
  });

  it('maps a charging three-phase BS20 and rounds float noise away', () => {
    const json = chargerStateToJson(chargingState());
    expect(json.power_w).toBe(10358.8);
    expect(json.energy_total_kwh).toBe(1234.568);
    expect([json.current_l1_a, json.current_l2_a, json.current_l3_a]).toEqual([16, 15, 14]);
    expect(json.charging_active).toBe(true);
    expect(json.charging_enabled).toBe(true);
    expect(json.plug_state).toBe('locked');
    expect(json.output_state).toBe('charging');
    expect(json.charger_state).toBe('charging');
    expect(json.session_energy_kwh).toBe(10.5);
    expect(json.session_duration_s).toBe(3600);
    expect(json.session_user).toBe('alice');
    expect(json.session_limit_energy_kwh).toBe(20);
    expect(json.session_limit_minutes).toBe(0);
    expect(json.session_start).toBe(formatLocalIso(T0 - 3_600_000));
  });

  it('publishes an unknown lifetime energy as null, never as 0', () => {
    expect(chargerStateToJson(emptyState(T0)).energy_total_kwh).toBeNull();
    expect(chargerStateToJson({ ...idleState(), energyTotalKwh: Number.NaN }).energy_total_kwh).toBeNull();
    expect(chargerStateToJson({ ...idleState(), energyTotalKwh: -1 }).energy_total_kwh).toBeNull();
    expect(chargerStateToJson({ ...idleState(), energyTotalKwh: 0 }).energy_total_kwh).toBe(0);
  });

  it('names active errors, and maps undocumented codes to "unknown" while keeping the code', () => {
    const json = chargerStateToJson(faultState());
    expect(json.problem).toBe(true);
    expect(json.error).toBe('over_temperature_inner, leakage_protection');
    expect(json.errors).toEqual(['over_temperature_inner', 'leakage_protection']);
    expect(json.plug_state).toBe('unknown');
    expect(json.plug_state_code).toBe(16);
    expect(json.output_state).toBe('unknown');
    expect(json.charger_state).toBe('unknown');
    expect(json.charger_state_code).toBe(19);
    // A language the select does not offer is published as unknown (null), not as a bad option.
    expect(json.language).toBeNull();
  });

  it('caps the error text at HA state length', () => {
    const errors = Array.from({ length: 40 }, (_, i) => `some_long_error_name_${i}`);
    const text = chargerStateToJson({ ...faultState(), errors }).error as string;
    expect(text.length).toBe(255);
    expect(text.endsWith('…')).toBe(true);
  });

  it('maps the OCPP connector status', () => {
    const json = chargerStateToJson(ocppState());
    expect(json.ocpp_status).toBe('suspended_ev');
    expect(json.ocpp_status_code).toBe('SuspendedEV');
    expect(json.charging_enabled).toBe(true);
    expect(json.charging_active).toBe(false);
    expect(json.plug_state).toBeNull();
  });

  it('prefers the session tracker and store over the charger’s own counters', () => {
    const json = chargerStateToJson(chargingState(), {
      session: { energyKwh: 11.25, durationS: 3700.4, startedAt: T0 - 3_700_000, userId: 'bob', cost: 3.456 },
      user: 'bob',
      limits: { energyKwh: null, minutes: 90 },
      totals: { energyTodayKwh: 12.5, energyMonthKwh: 210.0004, costMonth: 63.1 },
    });
    expect(json).toMatchObject({
      session_energy_kwh: 11.25,
      session_duration_s: 3700,
      session_start: formatLocalIso(T0 - 3_700_000),
      session_user: 'bob',
      session_cost: 3.46,
      session_limit_energy_kwh: 0,
      session_limit_minutes: 90,
      user: 'bob',
      energy_today_kwh: 12.5,
      energy_month_kwh: 210,
      cost_month: 63.1,
    });
  });

  it('publishes a next-session user that is no longer configured as unknown', () => {
    expect(chargerStateToJson(idleState(), { user: 'carol', users: ['alice', 'bob'] }).user).toBeNull();
    expect(chargerStateToJson(idleState(), { user: 'bob', users: ['alice', 'bob'] }).user).toBe('bob');
  });

  it('always has the same keys in the same order, and identical output for identical input', () => {
    const keyLists = Object.values(SAMPLE_STATES).map((make) => Object.keys(chargerStateToJson(make())));
    for (const keys of keyLists) expect(keys).toEqual(keyLists[0]);
    for (const make of Object.values(SAMPLE_STATES)) {
      expect(JSON.stringify(chargerStateToJson(make()))).toBe(JSON.stringify(chargerStateToJson(make())));
    }
  });

  it('sorts raw codes so their order does not change the string', () => {
    const a = chargerStateToJson({ ...idleState(), raw: { b: 1, a: 2 } });
    const b = chargerStateToJson({ ...idleState(), raw: { a: 2, b: 1 } });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Object.keys(a.raw as object)).toEqual(['a', 'b']);
  });

  it('turns a link state into the availability payload', () => {
    expect(chargerAvailability({ link: 'online' })).toBe('online');
    for (const link of ['connecting', 'offline', 'auth_failed', 'no_adapter'] as const) {
      expect(chargerAvailability({ link })).toBe('offline');
    }
  });
});

describe('raw code maps', () => {
  it('accepts numbers, numeric strings and already-mapped names', () => {
    expect(mapPlugState(2)).toEqual({ name: 'connected', code: 2 });
    expect(mapPlugState('4')).toEqual({ name: 'locked', code: '4' });
    expect(mapPlugState('Connected')).toEqual({ name: 'connected', code: 'Connected' });
    expect(mapPlugState(null)).toBeNull();
    expect(mapChargerState(3)?.name).toBe('charging_fault');
    expect(mapChargerState(17)?.name).toBe('completed_full');
    expect(mapChargerState('gibberish')?.name).toBe('unknown');
    expect(mapOcppStatus('SuspendedEVSE')?.name).toBe('suspended_evse');
    expect(mapOcppStatus('Faulted')?.name).toBe('faulted');
  });

  it('never produces a name outside the option list for any byte value', () => {
    for (let code = 0; code < 256; code++) {
      expect(PLUG_STATES).toContain(mapPlugState(code)?.name);
      expect(OUTPUT_STATES).toContain(mapOutputState(code)?.name);
      expect(CHARGER_STATES).toContain(mapChargerState(code)?.name);
    }
  });

  it('snake-cases protocol names', () => {
    expect(toSnakeCase('SuspendedEV')).toBe('suspended_ev');
    expect(toSnakeCase(' Not Connected ')).toBe('not_connected');
  });
});

describe('events', () => {
  it('publishes charger and session events with their data, and drops link events', () => {
    expect(eventToJson({ type: 'rfid', at: T0, data: { idTag: 'ABC123' } })).toEqual({
      event_type: 'rfid',
      at: formatLocalIso(T0),
      idTag: 'ABC123',
    });
    expect(
      eventToJson({ type: 'session_completed', at: T0, data: { energyKwh: 7, event_type: 'spoof' } }),
    ).toEqual({
      event_type: 'session_completed',
      at: formatLocalIso(T0),
      energyKwh: 7,
    });
    expect(eventToJson({ type: 'link_lost', at: T0 })).toBeNull();
  });
});

describe('local date/time text', () => {
  it('formats with the local offset and round-trips through the parser', () => {
    const text = formatLocalIso(T0)!;
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(parseDateTime(text, T0)).toBe(T0);
    expect(formatLocalIso(null)).toBeNull();
    expect(formatLocalIso(Number.NaN)).toBeNull();
  });

  it('reads UTC, offsets, local times and a bare time of day', () => {
    expect(parseDateTime('2026-03-01T06:30:00+00:00', 0)).toBe(T0);
    expect(parseDateTime('2026-03-01T07:30:00+01:00', 0)).toBe(T0);
    expect(parseDateTime('2026-03-01T06:30Z', 0)).toBe(T0);
    expect(parseDateTime('2026-03-01 07:30', 0)).toBe(new Date(2026, 2, 1, 7, 30).getTime());
    const now = new Date(2026, 2, 1, 8, 0).getTime();
    expect(parseDateTime('07:30', now)).toBe(new Date(2026, 2, 2, 7, 30).getTime());
    expect(parseDateTime('09:15', now)).toBe(new Date(2026, 2, 1, 9, 15).getTime());
  });

  it('rejects impossible or foreign forms', () => {
    for (const bad of [
      '2026-02-31T07:30',
      '2026-13-01T00:00',
      '24:00',
      '7.30',
      'tomorrow',
      '1700000000',
      '',
    ]) {
      expect(parseDateTime(bad, T0)).toBeNull();
    }
  });
});
