/**
 * Mechanical check that the discovery templates and the state JSON agree: every `value_json.<key>`
 * a template reads exists in the JSON published on that template's topic, and values fit the
 * entity (enum values within options, numbers for numeric sensors, ISO times for timestamps).
 */
import { describe, expect, it } from 'vitest';
import { bridgeInfoToJson, bridgeStatePayload } from '../../src/homeassistant/bridge.js';
import type { ChargerCapabilities } from '../../src/homeassistant/capabilities.js';
import { buildBridgeDiscovery, buildChargerDiscovery } from '../../src/homeassistant/discovery.js';
import { CHARGER_ENTITIES } from '../../src/homeassistant/entities.js';
import { CHARGER_EVENT_TYPES, eventToJson, SESSION_EVENT_TYPES } from '../../src/homeassistant/events.js';
import { chargerStateToJson } from '../../src/homeassistant/state.js';
import {
  bs20Caps,
  bs20Info,
  fullBs20Caps,
  ORIGIN,
  ocppCaps,
  ocppInfo,
  SAMPLE_STATES,
  T0,
} from './fixtures.js';

type Component = Record<string, unknown>;
interface TemplateUse {
  component: string;
  field: string;
  topic: string;
  template: string;
}

function templateUses(components: Record<string, Component>): TemplateUse[] {
  const uses: TemplateUse[] = [];
  for (const [component, c] of Object.entries(components)) {
    const stateTopic = (c.state_topic ?? c.topic) as string | undefined;
    if (typeof c.value_template === 'string' && stateTopic) {
      uses.push({ component, field: 'value_template', topic: stateTopic, template: c.value_template });
    }
    if (typeof c.json_attributes_template === 'string') {
      uses.push({
        component,
        field: 'json_attributes_template',
        topic: c.json_attributes_topic as string,
        template: c.json_attributes_template,
      });
    }
    for (const a of (c.availability ?? []) as Array<{ topic: string; value_template?: string }>) {
      if (a.value_template)
        uses.push({ component, field: 'availability', topic: a.topic, template: a.value_template });
    }
  }
  return uses;
}

const referencedKeys = (template: string) =>
  [...template.matchAll(/value_json\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);

/** The value a `{{ value_json.key }}` template renders from, or undefined for other template forms. */
function simpleValue(template: string, json: Record<string, unknown>): { value: unknown } | undefined {
  const m = /^\{\{ value_json\.([a-z0-9_]+) \}\}$/.exec(template);
  return m ? { value: json[m[1]!] } : undefined;
}

/** Each sample state bare, and with tracker extras naming a user that may or may not be configured. */
function stateSamples(users: readonly string[]) {
  return Object.entries(SAMPLE_STATES).flatMap(([name, make]) => [
    { name, json: chargerStateToJson(make()) },
    ...['bob', users[0] ?? null].map((user) => ({
      name: `${name} + tracker (${user})`,
      json: chargerStateToJson(make(), {
        session: { energyKwh: 1, durationS: 60, startedAt: T0, userId: 'alice', cost: 0.3 },
        user,
        users,
        totals: { energyTodayKwh: 1, energyMonthKwh: 2, costMonth: 0.6 },
      }),
    })),
  ]);
}

function samplesFor(
  topic: string,
  chargerId: string,
  users: readonly string[] = [],
): Array<{ name: string; json: Record<string, unknown> }> {
  if (topic === `chargebridge/${chargerId}`) return stateSamples(users);
  if (topic === `chargebridge/${chargerId}/event`) {
    return [...Object.keys(CHARGER_EVENT_TYPES), ...Object.keys(SESSION_EVENT_TYPES)].map((type) => ({
      name: type,
      json: eventToJson({ type, at: T0 })!,
    }));
  }
  if (topic === 'chargebridge/bridge/state') {
    return [true, false].map((online) => ({
      name: `bridge ${online}`,
      json: JSON.parse(bridgeStatePayload(online)),
    }));
  }
  if (topic === 'chargebridge/bridge/info') {
    const info = bridgeInfoToJson({
      version: '0.1.0',
      logLevel: 'info',
      chargers: [{ id: 'garage', name: 'Garage', kind: 'bs20', online: true }],
    });
    return [{ name: 'bridge info', json: info }];
  }
  throw new Error(`no sample JSON for topic ${topic}`);
}

const variants: Array<[string, string, 'bs20' | 'ocpp', ChargerCapabilities, 'datetime' | 'text']> = [
  ['full 3-phase BS20', 'carport', 'bs20', fullBs20Caps(3), 'datetime'],
  ['full 1-phase BS20 on old HA', 'garage', 'bs20', fullBs20Caps(1), 'text'],
  ['plain BS20', 'garage', 'bs20', bs20Caps(1), 'datetime'],
  [
    'OCPP station with sessions',
    'office',
    'ocpp',
    ocppCaps({ sessions: true, users: ['a'], currency: 'CHF' }),
    'datetime',
  ],
];

describe.each(variants)('templates of a %s', (_, id, kind, caps, platform) => {
  const { payload } = buildChargerDiscovery({
    charger: { id, name: id, kind, info: kind === 'bs20' ? bs20Info(caps.phases) : ocppInfo() },
    capabilities: caps,
    baseTopic: 'chargebridge',
    discoveryPrefix: 'homeassistant',
    bridgeDeviceId: 'chargebridge_bridge',
    origin: ORIGIN,
    expireAfterS: 60,
    scheduledStartPlatform: platform,
  });
  const components = payload.components as Record<string, Component>;
  const uses = templateUses(components);

  it('only reference keys the published JSON has', () => {
    expect(uses.length).toBeGreaterThan(20);
    for (const use of uses) {
      const keys = referencedKeys(use.template);
      expect(keys.length, `${use.component}.${use.field}`).toBeGreaterThan(0);
      for (const sample of samplesFor(use.topic, id, caps.users)) {
        for (const key of keys) {
          expect(
            Object.hasOwn(sample.json, key),
            `${use.component}.${use.field} reads ${key} (${sample.name})`,
          ).toBe(true);
        }
      }
    }
  });

  it('render enum and select values within their options', () => {
    for (const [name, c] of Object.entries(components)) {
      if (!Array.isArray(c.options) || typeof c.value_template !== 'string') continue;
      for (const sample of samplesFor(c.state_topic as string, id, caps.users)) {
        const rendered = simpleValue(c.value_template, sample.json);
        expect(rendered, `${name} uses a plain template`).toBeDefined();
        if (rendered?.value !== null)
          expect(c.options, `${name} (${sample.name})`).toContain(rendered?.value);
      }
    }
  });

  it('render numbers for numeric entities and ISO times with an offset for timestamps', () => {
    for (const [name, c] of Object.entries(components)) {
      if (typeof c.value_template !== 'string' || c.state_topic !== `chargebridge/${id}`) continue;
      const numeric = c.p === 'number' || 'unit_of_measurement' in c || 'state_class' in c;
      const time = c.device_class === 'timestamp' || c.p === 'datetime';
      for (const sample of samplesFor(c.state_topic, id, caps.users)) {
        const rendered = simpleValue(c.value_template, sample.json);
        if (!rendered || rendered.value === null) continue;
        if (numeric) expect(typeof rendered.value, `${name} (${sample.name})`).toBe('number');
        if (time)
          expect(rendered.value, `${name} (${sample.name})`).toMatch(
            /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/,
          );
      }
    }
  });

  it('feed binary sensors and switches from booleans', () => {
    for (const [name, c] of Object.entries(components)) {
      if ((c.p !== 'binary_sensor' && c.p !== 'switch') || c.state_topic !== `chargebridge/${id}`) continue;
      const [key] = referencedKeys(c.value_template as string);
      for (const sample of samplesFor(c.state_topic, id, caps.users)) {
        const value = sample.json[key!];
        expect(typeof value === 'boolean' || (key === 'link' && typeof value === 'string'), `${name}`).toBe(
          true,
        );
      }
    }
  });
});

describe('bridge templates', () => {
  it('only reference keys the bridge state and info JSON have', () => {
    const { payload } = buildBridgeDiscovery({
      baseTopic: 'chargebridge',
      discoveryPrefix: 'homeassistant',
      origin: ORIGIN,
    });
    const uses = templateUses(payload.components as Record<string, Component>);
    expect(uses.length).toBeGreaterThan(4);
    for (const use of uses) {
      for (const sample of samplesFor(use.topic, 'none')) {
        for (const key of referencedKeys(use.template)) {
          expect(Object.hasOwn(sample.json, key), `${use.component} reads ${key}`).toBe(true);
        }
      }
    }
  });

  it('counts online chargers and sorts them for a stable string', () => {
    const info = bridgeInfoToJson({
      version: '0.1.0',
      logLevel: 'debug',
      chargers: [
        { id: 'z', name: 'Z', kind: 'ocpp', online: false },
        { id: 'a', name: 'A', kind: 'bs20', online: true },
      ],
    });
    expect(info.chargers_online).toBe(1);
    expect((info.chargers as Array<{ id: string }>).map((c) => c.id)).toEqual(['a', 'z']);
  });
});

describe('session summary attributes', () => {
  it('the session energy sensor carries the current or last session as JSON attributes', () => {
    const row = CHARGER_ENTITIES.find((e) => e.key === 'session_energy');
    for (const key of ['session_start', 'session_duration_s', 'session_user', 'session_cost', 'session_id']) {
      expect(row?.attributesTemplate).toContain(`value_json.${key}`);
    }
  });
});
