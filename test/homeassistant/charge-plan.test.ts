import { describe, expect, it } from 'vitest';
import {
  type ChargePlanInputs,
  chargerFacts,
  EMPTY_PLAN_INPUTS,
  evaluatePlan,
  planStateExtras,
} from '../../src/homeassistant/charge-plan.js';
import { buildChargerDiscovery } from '../../src/homeassistant/discovery.js';
import { chargerStateToJson } from '../../src/homeassistant/state.js';
import { FakeCharger } from './fakes.js';
import { bs20Caps, bs20Info, fullBs20Caps, idleState, ORIGIN, T0 } from './fixtures.js';

const HOUR = 3_600_000;
const inputs: ChargePlanInputs = {
  batteryKwh: 60,
  socNowPercent: 20,
  socTargetPercent: 80,
  deadlineAt: T0 + 8 * HOUR,
};
const onePhase = { phases: 1 as const, voltageV: 230, ceilingA: 32 };

describe('evaluatePlan', () => {
  it('is incomplete until every input is set, and names what is missing', () => {
    expect(evaluatePlan(EMPTY_PLAN_INPUTS, onePhase, T0)).toEqual({
      status: 'incomplete',
      message: 'set the battery capacity, the state of charge now, the target state of charge, the deadline',
      plan: null,
    });
    expect(evaluatePlan({ ...inputs, deadlineAt: null }, onePhase, T0).message).toBe('set the deadline');
  });

  it('plans whole amps from energy, losses, phases, voltage and time', () => {
    // 60 kWh × (80 − 20) % = 36 kWh into the battery; at 90 % efficiency 40 kWh from the grid;
    // over 8 h that is 5 kW; on one phase at 230 V: 21.7 A → 22 A. At 220 V: 22.7 A → 23 A.
    const at230 = evaluatePlan(inputs, onePhase, T0);
    expect(at230.status).toBe('ok');
    expect(at230.plan?.currentA).toBe(22);
    expect(evaluatePlan(inputs, { ...onePhase, voltageV: 220 }, T0).plan?.currentA).toBe(23);
    // Three phases share it: 5000 / 690 = 7.2 A → 8 A.
    expect(evaluatePlan(inputs, { ...onePhase, phases: 3 }, T0).plan?.currentA).toBe(8);
  });

  it('reports what the ceiling cannot reach, a reached target and a passed deadline', () => {
    expect(evaluatePlan(inputs, { ...onePhase, ceilingA: 16 }, T0)).toMatchObject({
      status: 'not_reachable',
      message: expect.stringMatching(/^not reachable: even 16 A/),
    });
    expect(evaluatePlan({ ...inputs, socNowPercent: 80 }, onePhase, T0).status).toBe('already_reached');
    expect(evaluatePlan(inputs, onePhase, T0 + 8 * HOUR).status).toBe('deadline_passed');
  });

  it('treats a charger without a usable ceiling as incomplete instead of throwing', () => {
    const evaluation = evaluatePlan(inputs, { ...onePhase, ceilingA: 0 }, T0);
    expect(evaluation.status).toBe('incomplete');
    expect(evaluation.message).toMatch(/ceiling/);
  });
});

describe('chargerFacts', () => {
  it('takes phases from the info and the mean plausible voltage of those phases from the state', () => {
    const charger = new FakeCharger();
    charger.info = bs20Info(3);
    charger.ceilingA = 16;
    charger.state = {
      ...charger.state,
      phases: [
        { voltageV: 228, currentA: 0 },
        { voltageV: 232, currentA: 0 },
        { voltageV: 2.3, currentA: 0 },
      ],
    };
    expect(chargerFacts(charger)).toEqual({ phases: 3, voltageV: 230, ceilingA: 16 });
  });

  it('falls back to 230 V when the charger reports no voltage yet', () => {
    const charger = new FakeCharger();
    expect(chargerFacts(charger).voltageV).toBe(230);
    charger.state = { ...charger.state, phases: [{ voltageV: null, currentA: null }] };
    expect(chargerFacts(charger)).toEqual({ phases: 1, voltageV: 230, ceilingA: 16 });
  });
});

describe('the plan in the state JSON and discovery', () => {
  it('publishes the inputs and the result as flat keys, all null without a planner', () => {
    const bare = chargerStateToJson(idleState());
    const planKeys = Object.keys(bare).filter((k) => k.startsWith('plan_'));
    expect(planKeys.length).toBe(13);
    for (const key of planKeys) expect(bare[key], key).toBeNull();

    const extras = planStateExtras(inputs, evaluatePlan(inputs, onePhase, T0));
    const json = chargerStateToJson(idleState(), { plan: extras });
    expect(json).toMatchObject({
      plan_battery_kwh: 60,
      plan_soc_now_percent: 20,
      plan_soc_target_percent: 80,
      plan_status: 'ok',
      plan_current_a: 22,
      plan_energy_to_battery_kwh: 36,
      plan_energy_from_grid_kwh: 40,
      plan_hours_available: 8,
      plan_power_w: 22 * 230,
      plan_soc_at_deadline_percent: 80,
    });
    expect(json.plan_deadline).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00[+-]\d\d:\d\d$/);
    expect(Date.parse(json.plan_deadline as string)).toBe(T0 + 8 * HOUR);
    // 40 kWh at 5060 W.
    expect(Date.parse(json.plan_finishes_at as string)).toBeCloseTo(T0 + (40_000 / 5060) * HOUR, -3);
  });

  it('keeps the current null while incomplete', () => {
    const partial = { ...EMPTY_PLAN_INPUTS, batteryKwh: 60 };
    const json = chargerStateToJson(idleState(), {
      plan: planStateExtras(partial, evaluatePlan(partial, onePhase, T0)),
    });
    expect(json).toMatchObject({ plan_battery_kwh: 60, plan_status: 'incomplete', plan_current_a: null });
  });

  it('announces the plan entities with the sessions capability only', () => {
    const discover = (caps: ReturnType<typeof bs20Caps>, platform: 'datetime' | 'text') =>
      buildChargerDiscovery({
        charger: { id: 'garage', name: 'Garage', kind: 'bs20', info: bs20Info(1) },
        capabilities: caps,
        baseTopic: 'chargebridge',
        discoveryPrefix: 'homeassistant',
        bridgeDeviceId: 'chargebridge_bridge',
        origin: ORIGIN,
        expireAfterS: 60,
        scheduledStartPlatform: platform,
      }).payload.components as Record<string, Record<string, unknown>>;
    const without = Object.keys(discover(bs20Caps(1), 'datetime'));
    expect(without.filter((k) => k.startsWith('plan_'))).toEqual([]);

    const c = discover(fullBs20Caps(1), 'datetime');
    expect(c.plan_battery_kwh).toMatchObject({
      p: 'number',
      device_class: 'energy_storage',
      unit_of_measurement: 'kWh',
      entity_category: 'config',
      min: 1,
      max: 200,
      step: 0.1,
      command_topic: 'chargebridge/garage/set/plan_battery_kwh',
      value_template: '{{ value_json.plan_battery_kwh }}',
    });
    for (const key of ['plan_soc_now', 'plan_soc_target']) {
      expect(c[key], key).toMatchObject({ p: 'number', unit_of_measurement: '%', min: 0, max: 100, step: 1 });
      expect(c[key], key).not.toHaveProperty('entity_category');
    }
    expect(c.plan_deadline).toMatchObject({
      p: 'datetime',
      command_topic: 'chargebridge/garage/set/plan_deadline',
      value_template: '{{ value_json.plan_deadline }}',
    });
    expect(c.plan_current).toMatchObject({
      p: 'sensor',
      device_class: 'current',
      unit_of_measurement: 'A',
      value_template: '{{ value_json.plan_current_a }}',
      json_attributes_topic: 'chargebridge/garage',
    });
    expect(c.plan_current?.json_attributes_template).toContain("'status': value_json.plan_status");
    expect(c.plan_current).not.toHaveProperty('state_class');
    expect(c.plan_current).not.toHaveProperty('command_topic');
    expect(c.plan_apply).toMatchObject({
      p: 'button',
      payload_press: 'PRESS',
      command_topic: 'chargebridge/garage/set/plan_apply',
    });

    const text = discover(fullBs20Caps(1), 'text');
    expect(text.plan_deadline).toMatchObject({ p: 'text', mode: 'text', max: 32 });
    expect(text.plan_deadline?.value_template).toContain('value_json.plan_deadline[:16]');
  });
});
