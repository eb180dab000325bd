/**
 * `/metrics` read back line by line and checked against the real thing: a Bs20Charger driven by the
 * simulated BS20 (charging, an error, out of range and back), the real MQTT connection, and the
 * optional session and OCPP providers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChargerSessionMetrics, OcppCounters } from '../../src/http/providers.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import { hasSample, type ParsedFamily, parseExposition, sampleValue } from './exposition-parser.js';
import { type Bs20Rig, connectedMqtt, get, loggedInBs20, type MqttRig } from './rig.js';

const TOKEN = 'metrics-token-0123456789';
// Every character the format must escape, in a charger id.
const ID = 'car\\port "A"\nleft';

let bs20: Bs20Rig;
let mqtt: MqttRig;
let server: RunningHttpServer;
const sessionRows: ChargerSessionMetrics[] = [
  { chargerId: ID, completedSessions: 12, completedEnergyKwh: 187.25, active: true, activeEnergyKwh: 3.5 },
];
const ocpp: OcppCounters[] = [
  { role: 'server', connections: 2, messagesReceived: 40, messagesSent: 38 },
  { role: 'client', connections: 1, messagesReceived: 5, messagesSent: 9 },
  { role: 'client', connections: 0, messagesReceived: 1, messagesSent: 2 },
];

beforeAll(async () => {
  bs20 = await loggedInBs20({ id: ID });
  mqtt = await connectedMqtt({ username: 'u', password: 'mqtt-password-x' });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    chargers: [bs20.charger],
    mqtt: mqtt.connection,
    sessions: { sessionMetrics: async () => sessionRows },
    ocpp: ocpp.map((c) => ({ ocppCounters: () => c })),
    version: '0.9.0',
    clock: bs20.clock,
  });
});

afterAll(async () => {
  await server?.close();
  await mqtt?.close();
  await bs20?.close();
});

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const res = await get(`http://127.0.0.1:${server.port}/metrics`, { token: TOKEN });
  expect(res.status).toBe(200);
  return parseExposition(res.body);
}

const charger = { charger: ID };

describe('/metrics', () => {
  it('is well-formed: HELP and TYPE for every family, counters named _total, finite values', async () => {
    const families = await scrape();
    expect(families.size).toBeGreaterThan(30);
    for (const family of families.values()) {
      expect(family.help.length, family.name).toBeGreaterThan(0);
      expect(['counter', 'gauge']).toContain(family.type);
      if (family.type === 'counter') expect(family.name.endsWith('_total'), family.name).toBe(true);
      expect(family.name.startsWith('chargebridge_') || /^(process|nodejs)_/.test(family.name)).toBe(true);
      for (const s of family.samples) expect(Number.isFinite(s.value), `${family.name}`).toBe(true);
    }
    expect(sampleValue(families, 'chargebridge_info', { version: '0.9.0' })).toBe(1);
  });

  it('shows an idle charger as the charger sees itself, with the id escaped and read back intact', async () => {
    const families = await scrape();
    const state = bs20.charger.getState();
    expect(sampleValue(families, 'chargebridge_charger_link_up', { ...charger, kind: 'bs20' })).toBe(1);
    expect(sampleValue(families, 'chargebridge_charger_link_state', { ...charger, state: 'online' })).toBe(1);
    expect(sampleValue(families, 'chargebridge_charger_link_state', { ...charger, state: 'offline' })).toBe(
      0,
    );
    expect(sampleValue(families, 'chargebridge_charger_status', { ...charger, status: state.status })).toBe(
      1,
    );
    expect(families.get('chargebridge_charger_status')?.samples.filter((s) => s.value === 1)).toHaveLength(1);
    expect(sampleValue(families, 'chargebridge_charger_plugged', charger)).toBe(0);
    expect(sampleValue(families, 'chargebridge_charger_charging', charger)).toBe(0);
    expect(sampleValue(families, 'chargebridge_charger_energy_kwh_total', charger)).toBe(
      state.energyTotalKwh,
    );
    expect(families.get('chargebridge_charger_energy_kwh_total')?.type).toBe('counter');
    expect(sampleValue(families, 'chargebridge_charger_max_current_amperes', charger)).toBe(16);
    expect(sampleValue(families, 'chargebridge_charger_current_ceiling_amperes', charger)).toBe(16);
    expect(sampleValue(families, 'chargebridge_charger_errors', charger)).toBe(0);
    expect(families.has('chargebridge_charger_error_active')).toBe(false);
  });

  it('follows a charging session: plugged, charging, power, current, phases', async () => {
    bs20.sim.plugIn({ demandA: 32 });
    await bs20.clock.advance(12_000);
    await bs20.charger.startCharging({ currentA: 10 });
    await bs20.clock.advance(60_000);
    const state = bs20.charger.getState();
    expect(state.charging).toBe(true);

    const families = await scrape();
    expect(sampleValue(families, 'chargebridge_charger_plugged', charger)).toBe(1);
    expect(sampleValue(families, 'chargebridge_charger_charging', charger)).toBe(1);
    expect(sampleValue(families, 'chargebridge_charger_status', { ...charger, status: 'charging' })).toBe(1);
    expect(sampleValue(families, 'chargebridge_charger_power_watts', charger)).toBe(state.powerW);
    expect(state.powerW).toBeGreaterThan(2000);
    expect(sampleValue(families, 'chargebridge_charger_max_current_amperes', charger)).toBe(10);
    expect(sampleValue(families, 'chargebridge_charger_energy_kwh_total', charger)).toBe(
      state.energyTotalKwh,
    );
    expect(
      sampleValue(families, 'chargebridge_charger_phase_current_amperes', { ...charger, phase: 'L1' }),
    ).toBe(state.phases[0]?.currentA);
    expect(
      sampleValue(families, 'chargebridge_charger_phase_voltage_volts', { ...charger, phase: 'L1' }),
    ).toBe(state.phases[0]?.voltageV);
    expect(
      sampleValue(families, 'chargebridge_charger_temperature_celsius', { ...charger, sensor: 'inner' }),
    ).toBe(state.temperatureInnerC);
  });

  it('lists an active error by name', async () => {
    bs20.sim.raiseError(7);
    await bs20.clock.advance(12_000);
    expect(bs20.charger.getState().errors).toContain('over_temperature_inner');
    const families = await scrape();
    expect(sampleValue(families, 'chargebridge_charger_errors', charger)).toBe(
      bs20.charger.getState().errors.length,
    );
    expect(
      sampleValue(families, 'chargebridge_charger_error_active', {
        ...charger,
        error: 'over_temperature_inner',
      }),
    ).toBe(1);
    bs20.sim.clearError(7);
    await bs20.clock.advance(12_000);
    expect(hasSample(await scrape(), 'chargebridge_charger_error_active', charger)).toBe(false);
  });

  it('drops live readings while the link is down, keeps the energy register, counts the loss and the reconnect', async () => {
    bs20.sim.setUnreachable(true);
    await bs20.clock.advance(3_000);
    const down = await scrape();
    const state = bs20.charger.getState();
    expect(sampleValue(down, 'chargebridge_charger_link_up', charger)).toBe(0);
    expect(sampleValue(down, 'chargebridge_charger_link_state', { ...charger, state: state.link })).toBe(1);
    for (const live of ['power_watts', 'charging', 'plugged']) {
      expect(hasSample(down, `chargebridge_charger_${live}`, charger), live).toBe(false);
    }
    expect(sampleValue(down, 'chargebridge_charger_energy_kwh_total', charger)).toBe(state.energyTotalKwh);
    expect(sampleValue(down, 'chargebridge_ble_link_losses_total', charger)).toBe(1);

    bs20.sim.setUnreachable(false);
    await bs20.clock.advance(120_000);
    expect(bs20.charger.getState().link).toBe('online');
    const up = await scrape();
    expect(sampleValue(up, 'chargebridge_charger_link_up', charger)).toBe(1);
    expect(sampleValue(up, 'chargebridge_ble_reconnects_total', charger)).toBe(1);
  });

  it('reports the BS20 link counters exactly as the session counts them', async () => {
    bs20.sim.corruptNextFrame();
    await bs20.clock.advance(12_000);
    const families = await scrape();
    const counters = bs20.charger.linkCounters();
    expect(counters.badFrames).toBeGreaterThanOrEqual(1);
    expect(counters.commandsSent).toBeGreaterThan(5);
    const names: Record<keyof typeof counters, string> = {
      reconnects: 'reconnects',
      linkLosses: 'link_losses',
      framesReceived: 'frames_received',
      badFrames: 'bad_frames',
      discardedBytes: 'discarded_bytes',
      malformedMessages: 'malformed_messages',
      commandsSent: 'commands_sent',
      commandsFailed: 'commands_failed',
      commandsTimedOut: 'commands_timed_out',
    };
    for (const [key, name] of Object.entries(names)) {
      const family = families.get(`chargebridge_ble_${name}_total`);
      expect(family?.type, name).toBe('counter');
      expect(sampleValue(families, `chargebridge_ble_${name}_total`, charger), name).toBe(
        counters[key as keyof typeof counters],
      );
    }
  });

  it('reports the MQTT connection counters', async () => {
    await mqtt.connection.publish('chargebridge/test/a', 'x');
    await mqtt.connection.publish('chargebridge/test/b', 'y');
    const families = await scrape();
    const c = mqtt.connection.counters();
    expect(c.published).toBeGreaterThanOrEqual(2);
    expect(sampleValue(families, 'chargebridge_mqtt_connected')).toBe(1);
    expect(sampleValue(families, 'chargebridge_mqtt_messages_published_total')).toBe(c.published);
    expect(sampleValue(families, 'chargebridge_mqtt_messages_received_total')).toBe(c.received);
    expect(sampleValue(families, 'chargebridge_mqtt_reconnects_total')).toBe(c.reconnects);
    expect(sampleValue(families, 'chargebridge_mqtt_publish_failures_total')).toBe(c.publishFailures);
    expect(sampleValue(families, 'chargebridge_mqtt_queued_messages')).toBe(c.queued);
  });

  it('reports sessions and OCPP from their providers, summing providers of one role', async () => {
    const families = await scrape();
    expect(sampleValue(families, 'chargebridge_sessions_completed_total', charger)).toBe(12);
    expect(sampleValue(families, 'chargebridge_sessions_energy_kwh_total', charger)).toBe(187.25);
    expect(sampleValue(families, 'chargebridge_session_active', charger)).toBe(1);
    expect(sampleValue(families, 'chargebridge_session_energy_kwh', charger)).toBe(3.5);
    expect(sampleValue(families, 'chargebridge_ocpp_connections', { role: 'server' })).toBe(2);
    expect(sampleValue(families, 'chargebridge_ocpp_connections', { role: 'client' })).toBe(1);
    expect(sampleValue(families, 'chargebridge_ocpp_messages_received_total', { role: 'client' })).toBe(6);
    expect(sampleValue(families, 'chargebridge_ocpp_messages_sent_total', { role: 'client' })).toBe(11);
    expect(sampleValue(families, 'chargebridge_ocpp_messages_sent_total', { role: 'server' })).toBe(38);
  });

  it('reports the process: memory, heap, CPU, start time, uptime, event-loop delay', async () => {
    // Hold the event loop for 80 ms (busy, not sleeping): the next scrape must see that delay.
    const until = performance.now() + 80;
    while (performance.now() < until) {
      /* busy */
    }
    const families = await scrape();
    expect(sampleValue(families, 'nodejs_eventloop_delay_max_seconds')).toBeGreaterThan(0.04);
    expect(sampleValue(families, 'nodejs_eventloop_delay_max_seconds')).toBeLessThan(5);
    expect(sampleValue(families, 'nodejs_eventloop_delay_p50_seconds')).toBeLessThanOrEqual(
      sampleValue(families, 'nodejs_eventloop_delay_p99_seconds'),
    );
    const rss = sampleValue(families, 'process_resident_memory_bytes');
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(sampleValue(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);
    expect(sampleValue(families, 'nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(
      sampleValue(families, 'nodejs_heap_size_total_bytes'),
    );
    expect(sampleValue(families, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    const start = sampleValue(families, 'process_start_time_seconds');
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(start).toBeGreaterThan(Date.now() / 1000 - 3600);
    // Uptime follows the injected clock: the tests above moved it by minutes.
    expect(sampleValue(families, 'chargebridge_uptime_seconds')).toBeGreaterThan(200);
  });
});
