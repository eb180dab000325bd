import { describe, expect, it } from 'vitest';
import { CHARGER_STATUSES } from '../../src/core/charger.js';
import type { ChargerCapabilities } from '../../src/homeassistant/capabilities.js';
import {
  buildBridgeDiscovery,
  buildChargerDiscovery,
  type ChargerDiscoveryInput,
  entitySlug,
  removalPayload,
  withRemovedComponents,
} from '../../src/homeassistant/discovery.js';
import { commandKeysFor } from '../../src/homeassistant/entities.js';
import { bs20Caps, bs20Info, fullBs20Caps, ORIGIN, ocppCaps, ocppInfo } from './fixtures.js';

type Component = Record<string, unknown>;

function input(
  id: string,
  kind: 'bs20' | 'ocpp',
  caps: ChargerCapabilities,
  extra: Partial<ChargerDiscoveryInput> = {},
): ChargerDiscoveryInput {
  return {
    charger: { id, name: `Charger ${id}`, kind, info: kind === 'bs20' ? bs20Info(caps.phases) : ocppInfo() },
    capabilities: caps,
    baseTopic: 'chargebridge',
    discoveryPrefix: 'homeassistant',
    bridgeDeviceId: 'chargebridge_bridge',
    origin: ORIGIN,
    expireAfterS: 60,
    ...extra,
  };
}

function components(payload: Record<string, unknown>): Record<string, Component> {
  return payload.components as Record<string, Component>;
}

const entityComponents = (payload: Record<string, unknown>) =>
  Object.entries(components(payload)).filter(([, c]) => c.p !== 'device_automation');

const bs20Single = () => buildChargerDiscovery(input('garage', 'bs20', fullBs20Caps(1)));
const bs20Three = () => buildChargerDiscovery(input('carport', 'bs20', fullBs20Caps(3)));
const ocpp = () => buildChargerDiscovery(input('office', 'ocpp', ocppCaps()));

describe('charger discovery', () => {
  it('uses device-based discovery with device, origin and components', () => {
    const { topic, payload } = bs20Single();
    expect(topic).toBe('homeassistant/device/chargebridge_garage/config');
    expect(payload.device).toEqual({
      identifiers: ['chargebridge_garage'],
      name: 'Charger garage',
      manufacturer: 'Besen',
      model: 'BS20',
      serial_number: '9181102751219513',
      sw_version: '1.4.2',
      hw_version: 'CDD',
      connections: [['mac', '9c:a5:0e:c8:a2:12']],
      via_device: 'chargebridge_bridge',
    });
    expect(payload.origin).toEqual(ORIGIN);
  });

  it('leaves out device fields the charger does not know', () => {
    const device = ocpp().payload.device as Record<string, unknown>;
    expect(Object.keys(device)).toEqual(['identifiers', 'name', 'manufacturer', 'model', 'via_device']);
  });

  it.each([
    ['1-phase BS20', bs20Single],
    ['3-phase BS20', bs20Three],
    ['OCPP station', ocpp],
  ])('gives every entity of a %s p, unique_id, default_entity_id and availability', (_, build) => {
    const { payload } = build();
    const deviceId = (payload.device as { identifiers: string[] }).identifiers[0]!;
    for (const [id, c] of entityComponents(payload)) {
      expect(typeof c.p, id).toBe('string');
      expect(c.unique_id, id).toBe(`${deviceId}_${id}`);
      expect(c.default_entity_id, id).toMatch(new RegExp(`^${String(c.p)}\\.[a-z0-9_]+_${id}$`));
      expect(typeof c.name, id).toBe('string');
      const availability = c.availability as Array<{ topic: string; value_template?: string }>;
      expect(availability[0], id).toEqual({
        topic: 'chargebridge/bridge/state',
        value_template: '{{ value_json.state }}',
      });
      expect(c.availability_mode, id).toBe('all');
    }
  });

  it('lists the charger availability topic on entities that need a live link', () => {
    const c = components(bs20Single().payload);
    expect(c.power?.availability).toEqual([
      { topic: 'chargebridge/bridge/state', value_template: '{{ value_json.state }}' },
      { topic: 'chargebridge/garage/availability' },
    ]);
    // Status and link must still show "offline" when the charger link is down.
    expect(c.status?.availability).toHaveLength(1);
    expect(c.link?.availability).toHaveLength(1);
  });

  it('keeps unique_ids unique, and identical across calls', () => {
    for (const build of [bs20Single, bs20Three, ocpp]) {
      const ids = entityComponents(build().payload).map(([, c]) => c.unique_id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(entityComponents(build().payload).map(([, c]) => c.unique_id)).toEqual(ids);
    }
  });

  it('produces the identical JSON string for identical input', () => {
    expect(JSON.stringify(bs20Three().payload)).toBe(JSON.stringify(bs20Three().payload));
    expect(JSON.stringify(ocpp())).toBe(JSON.stringify(ocpp()));
  });

  it('feeds the Energy dashboard from the lifetime register only', () => {
    const c = components(bs20Single().payload);
    expect(c.energy_total).toMatchObject({
      device_class: 'energy',
      state_class: 'total_increasing',
      unit_of_measurement: 'kWh',
    });
    for (const key of ['session_energy', 'energy_today', 'energy_month']) {
      expect(c[key]?.device_class, key).toBe('energy');
      expect(c[key]?.state_class, key).not.toBe('total_increasing');
    }
    const increasing = entityComponents(bs20Single().payload).filter(
      ([, v]) => v.state_class === 'total_increasing',
    );
    expect(increasing.map(([id]) => id)).toEqual(['energy_total']);
  });

  it('gives enum sensors options and no unit or state_class', () => {
    for (const build of [bs20Single, ocpp]) {
      const enums = entityComponents(build().payload).filter(([, c]) => c.device_class === 'enum');
      expect(enums.length).toBeGreaterThan(1);
      for (const [id, c] of enums) {
        expect(Array.isArray(c.options) && c.options.length > 0, id).toBe(true);
        expect(c, id).not.toHaveProperty('unit_of_measurement');
        expect(c, id).not.toHaveProperty('state_class');
      }
    }
    expect(components(bs20Single().payload).status?.options).toEqual([...CHARGER_STATUSES]);
  });

  it('offers L2/L3 only on three-phase units, disabled by default like the raw codes', () => {
    const single = components(bs20Single().payload);
    const three = components(bs20Three().payload);
    expect(Object.keys(single)).toContain('voltage_l1');
    expect(Object.keys(single)).not.toContain('voltage_l2');
    expect(Object.keys(single)).not.toContain('current_l3');
    for (const key of ['voltage_l1', 'voltage_l2', 'voltage_l3', 'current_l1', 'current_l2', 'current_l3']) {
      expect(three[key]?.enabled_by_default, key).toBe(false);
      expect(three[key]?.entity_category, key).toBe('diagnostic');
    }
    for (const key of ['plug_state', 'output_state', 'charger_state', 'rssi']) {
      expect(three[key]?.enabled_by_default, key).toBe(false);
    }
    for (const key of ['charging', 'power', 'energy_total', 'status']) {
      expect(three[key], key).not.toHaveProperty('entity_category');
      expect(three[key], key).not.toHaveProperty('enabled_by_default');
    }
  });

  it('gives an OCPP station only what it supports', () => {
    const keys = Object.keys(components(ocpp().payload));
    for (const key of [
      'charging',
      'max_current',
      'power',
      'energy_total',
      'status',
      'ocpp_status',
      'restart',
    ]) {
      expect(keys, key).toContain(key);
    }
    for (const key of [
      'name',
      'language',
      'temperature_unit',
      'sync_time',
      'scheduled_start',
      'session_limit_energy',
      'rssi',
      'temperature_inner',
      'plug_state',
      'session_energy',
      'user',
    ]) {
      expect(keys, key).not.toContain(key);
    }
  });

  it('adds session entities only once the session tracker runs, costs only with a currency', () => {
    const without = Object.keys(components(buildChargerDiscovery(input('g', 'bs20', bs20Caps(1))).payload));
    expect(without).not.toContain('session_energy');
    expect(without).not.toContain('trigger_session_started');
    const noCurrency = buildChargerDiscovery(
      input('g', 'bs20', bs20Caps(1, { sessions: true, users: ['a'] })),
    );
    const keys = Object.keys(components(noCurrency.payload));
    expect(keys).toEqual(
      expect.arrayContaining(['session_energy', 'session_duration', 'session_user', 'user']),
    );
    expect(keys).not.toContain('session_cost');
    expect(keys).not.toContain('cost_month');
    const full = components(bs20Single().payload);
    expect(full.session_cost).toMatchObject({ device_class: 'monetary', unit_of_measurement: 'EUR' });
    expect(full.session_cost).not.toHaveProperty('state_class');
    expect(full.user?.options).toEqual(['alice', 'bob']);
  });

  it('wires controls to their command topics with HA-valid settings', () => {
    const c = components(bs20Single().payload);
    expect(c.charging).toMatchObject({
      p: 'switch',
      command_topic: 'chargebridge/garage/set/charging',
      payload_on: 'ON',
      payload_off: 'OFF',
    });
    expect(c.max_current).toMatchObject({
      p: 'number',
      device_class: 'current',
      unit_of_measurement: 'A',
      min: 6,
      max: 16,
      step: 1,
      mode: 'box',
      entity_category: 'config',
      command_topic: 'chargebridge/garage/set/max_current',
    });
    expect(c.name).toMatchObject({ p: 'text', max: 11, command_topic: 'chargebridge/garage/set/name' });
    expect(c.sync_time).toMatchObject({ p: 'button', payload_press: 'PRESS' });
    expect(c.sync_time).not.toHaveProperty('state_topic');
    // Every entity with a command topic is one parseCommand knows about.
    const withCommands = entityComponents(bs20Single().payload)
      .filter(([, v]) => typeof v.command_topic === 'string')
      .map(([id]) => id);
    expect(withCommands.sort()).toEqual(commandKeysFor(fullBs20Caps(1)).sort());
  });

  it('puts expire_after on live measurements only', () => {
    const c = components(bs20Three().payload);
    for (const key of ['power', 'voltage_l1', 'current_l3', 'temperature_inner', 'rssi']) {
      expect(c[key]?.expire_after, key).toBe(60);
    }
    for (const key of ['energy_total', 'status', 'max_current', 'charging', 'session_energy']) {
      expect(c[key], key).not.toHaveProperty('expire_after');
    }
    const none = buildChargerDiscovery(input('g', 'bs20', bs20Caps(3), { expireAfterS: 0 }));
    expect(components(none.payload).power).not.toHaveProperty('expire_after');
  });

  it('uses the MQTT datetime platform for the scheduled start, or text for older HA', () => {
    expect(components(bs20Single().payload).scheduled_start).toMatchObject({
      p: 'datetime',
      default_entity_id: 'datetime.garage_scheduled_start',
    });
    const legacy = buildChargerDiscovery(
      input('garage', 'bs20', bs20Caps(1), { scheduledStartPlatform: 'text' }),
    );
    const text = components(legacy.payload).scheduled_start!;
    expect(text).toMatchObject({
      p: 'text',
      default_entity_id: 'text.garage_scheduled_start',
      min: 0,
      max: 32,
    });
    expect(new RegExp(String(text.pattern)).test('07:30')).toBe(true);
    expect(new RegExp(String(text.pattern)).test('2026-03-01 07:30')).toBe(true);
    expect(new RegExp(String(text.pattern)).test('')).toBe(true);
    expect(new RegExp(String(text.pattern)).test('soon')).toBe(false);
  });

  it('has an event entity and a device trigger per event type on the event topic', () => {
    const c = components(bs20Single().payload);
    const types = c.event?.event_types as string[];
    expect(types).toEqual(
      expect.arrayContaining(['plugged', 'unplugged', 'session_started', 'session_completed']),
    );
    expect(c.event?.state_topic).toBe('chargebridge/garage/event');
    for (const type of types) {
      expect(c[`trigger_${type}`]).toMatchObject({
        p: 'device_automation',
        automation_type: 'trigger',
        topic: 'chargebridge/garage/event',
        type,
        payload: type,
        value_template: '{{ value_json.event_type }}',
      });
    }
    const noTriggers = buildChargerDiscovery(input('garage', 'bs20', bs20Caps(1), { deviceTriggers: false }));
    expect(Object.keys(components(noTriggers.payload)).some((k) => k.startsWith('trigger_'))).toBe(false);
  });

  it('slugs charger ids into valid entity ids', () => {
    expect(entitySlug('Garage BS20')).toBe('garage_bs20');
    expect(entitySlug('--')).toBe('charger');
    const odd = buildChargerDiscovery(input('Car-Port.1', 'bs20', bs20Caps(1)));
    expect(odd.topic).toBe('homeassistant/device/chargebridge_Car-Port_1/config');
    expect(components(odd.payload).power?.default_entity_id).toBe('sensor.car_port_1_power');
  });
});

describe('bridge discovery', () => {
  const bridge = () =>
    buildBridgeDiscovery({ baseTopic: 'chargebridge', discoveryPrefix: 'homeassistant', origin: ORIGIN });

  it('describes the bridge device and its entities', () => {
    const { topic, payload } = bridge();
    expect(topic).toBe('homeassistant/device/chargebridge_bridge/config');
    expect(payload.device).toMatchObject({ identifiers: ['chargebridge_bridge'], sw_version: '0.1.0' });
    const c = components(payload);
    expect(Object.keys(c)).toEqual([
      'connection_state',
      'version',
      'chargers_online',
      'log_level',
      'store_problem',
      'clear_store_problems',
      'restart',
    ]);
    expect(c.store_problem).toMatchObject({
      p: 'binary_sensor',
      device_class: 'problem',
      state_topic: 'chargebridge/bridge/info',
    });
    expect(c.clear_store_problems).toMatchObject({
      p: 'button',
      command_topic: 'chargebridge/bridge/request/store_problems/clear',
      payload_press: '{}',
    });
    expect(c.connection_state).toMatchObject({
      p: 'binary_sensor',
      device_class: 'connectivity',
      state_topic: 'chargebridge/bridge/state',
      payload_on: 'online',
      payload_off: 'offline',
    });
    // It must be able to show "disconnected", so it has no availability of its own.
    expect(c.connection_state).not.toHaveProperty('availability');
    expect(c.log_level).toMatchObject({
      p: 'select',
      command_topic: 'chargebridge/bridge/request/log_level',
    });
    expect(c.restart).toMatchObject({ p: 'button', command_topic: 'chargebridge/bridge/request/restart' });
    for (const [id, comp] of Object.entries(c)) {
      expect(comp.unique_id, id).toBe(`chargebridge_bridge_${id}`);
      expect(comp.default_entity_id, id).toBe(`${String(comp.p)}.chargebridge_${id}`);
    }
    expect(JSON.stringify(bridge())).toBe(JSON.stringify(bridge()));
  });
});

describe('removal', () => {
  it('deletes a device with an empty payload', () => {
    expect(removalPayload()).toBe('');
  });

  it('tombstones components that disappeared, once', () => {
    const before = bs20Single().payload;
    const after = buildChargerDiscovery(input('garage', 'bs20', bs20Caps(1))).payload;
    const merged = withRemovedComponents(before, after);
    const c = components(merged);
    expect(c.session_energy).toEqual({ p: 'sensor' });
    expect(c.user).toEqual({ p: 'select' });
    expect(c.trigger_session_started).toEqual({ p: 'device_automation' });
    expect(c.power).toEqual(components(after).power);
    // The next publish compares against `merged`; tombstones must not linger.
    expect(withRemovedComponents(merged, after)).toBe(after);
    expect(withRemovedComponents(null, after)).toBe(after);
  });
});
