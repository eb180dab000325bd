/**
 * The central system inside the real daemon, from YAML: configured stations in Home Assistant
 * before they connect, the ocpp/* bridge requests over MQTT, and chargebridge talking to itself —
 * a simulated BS20 presented upstream (ocpp_upstream) to the daemon's own ocpp_server, so the same
 * charger shows up a second time as an OCPP station and a charging switch there reaches the BS20.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/index.js';
import { ManualClock } from '../../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../../src/daemon.js';
import { silentLogger } from '../../../src/log.js';
import { MqttProbe } from '../../helpers/mqtt-probe.js';
import { savedBrokerLogin } from '../../reliability/daemon-rig.js';
import { eventually, freePort } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function startFromYaml(dir: string, clock: ManualClock): Promise<RunningDaemon> {
  const ocppPort = await freePort();
  const yaml = `
data_dir: ${dir}
timezone: UTC
mqtt:
  embedded_broker: { host: 127.0.0.1, port: ${await freePort()} }
users:
  - name: alice
    id_tags: ["04A1B2C3"]
chargers:
  - id: garage
    type: bs20
    transport: simulated
    max_current: 16
    ocpp_upstream:
      url: ws://127.0.0.1:${ocppPort}/ocpp
      station_id: BS20-7
      security_profile: 1
      password: loop-secret
      ping_interval_s: 0
      call_timeout_s: 300
http:
  enabled: true
  host: 127.0.0.1
  port: ${await freePort()}
  token: metrics-token-123
ocpp_server:
  enabled: true
  host: 127.0.0.1
  port: ${ocppPort}
  security_profile: 1
  unknown_stations: reject
  ping_interval_s: 0
  stations:
    - id: garage_ocpp
      identity: BS20-7
      password: loop-secret
      max_current: 16
    - id: carport
      name: Carport
      password: carport-pass
`;
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  cleanups.push(() => daemon.stop());
  return daemon;
}

describe('ocpp_server in the daemon', () => {
  it('shows configured stations, answers ocpp/* requests and serves chargebridge’s own charge point', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-daemon-ocpp-server-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const daemon = await startFromYaml(dir, clock);
    const probe = await MqttProbe.connect(daemon.mqttUrl, savedBrokerLogin(dir));
    cleanups.push(() => probe.close());
    await probe.subscribe('chargebridge/#');
    await probe.subscribe('homeassistant/#');

    expect(daemon.chargers.map((c) => c.id)).toEqual(['garage', 'garage_ocpp', 'carport']);
    await probe.waitFor('homeassistant/device/chargebridge_carport/config');
    await probe.waitFor('chargebridge/carport/availability', (m) => m.text === 'offline');

    // The BS20's own charge point connects to the daemon's central system and boots.
    const station = daemon.chargers.find((c) => c.id === 'garage_ocpp');
    if (!station) throw new Error('no garage_ocpp');
    await eventually(
      () => station.getInfo().model === 'BS20' && station.getState().link === 'online',
      'the BS20 to boot at our own server',
      {
        clock,
        stepMs: 500,
      },
    );
    await probe.waitFor('chargebridge/garage_ocpp/availability', (m) => m.text === 'online');

    await probe.publish('chargebridge/bridge/request/ocpp/stations', JSON.stringify({ transaction: 7 }));
    const response = JSON.parse((await probe.waitFor('chargebridge/bridge/response/ocpp/stations')).text) as {
      status: string;
      transaction: number;
      data: { stations: Array<{ id: string; connected: boolean; manufacturer: string }> };
    };
    expect(response).toMatchObject({ status: 'ok', transaction: 7 });
    expect(response.data.stations.map((s) => [s.id, s.connected, s.manufacturer])).toEqual([
      ['garage_ocpp', true, 'Besen'],
      ['carport', false, 'OCPP'],
    ]);

    // A charging switch on the OCPP view of the BS20: remote start → charge point → BLE → transaction.
    const sim = daemon.simulators.get('garage');
    if (!sim) throw new Error('no simulator');
    sim.plugIn({ demandA: 16 });
    await eventually(() => station.getState().plugged, 'the plug to show at the station', {
      clock,
      stepMs: 1000,
    });
    await probe.publish('chargebridge/garage_ocpp/set/charging', 'ON');
    await eventually(
      () => station.getState().charging && station.getState().session !== null,
      'a transaction at our server',
      {
        clock,
        stepMs: 1000,
      },
    );
    const transactionId = station.getState().session?.chargerSessionId;
    expect(transactionId).toMatch(/^\d+$/);
    await probe.publish('chargebridge/garage_ocpp/set/charging', 'OFF');
    await eventually(
      () => daemon.ocppServer?.station('BS20-7')?.chargers[0]?.getFacts().transaction?.stoppedAt != null,
      'the StopTransaction',
      {
        clock,
        stepMs: 1000,
      },
    );
    expect(station.getState()).toMatchObject({
      charging: false,
      session: { chargerSessionId: transactionId },
    });

    // Both sides of that traffic are counted on /metrics: our server and the BS20's charge point.
    const metrics = await fetch(`http://127.0.0.1:${daemon.http?.port}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-123' },
    }).then((r) => r.text());
    const value = (name: string, role: string) =>
      Number(new RegExp(`^${name}\\{role="${role}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    for (const role of ['server', 'client']) {
      expect(value('chargebridge_ocpp_connections', role)).toBe(1);
      expect(value('chargebridge_ocpp_messages_received_total', role)).toBeGreaterThan(3);
      expect(value('chargebridge_ocpp_messages_sent_total', role)).toBeGreaterThan(3);
    }
  });
});
