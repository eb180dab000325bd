/**
 * `unknown_stations: accept` inside the real daemon: a station nobody configured connects, boots and
 * charges (an independent charge point, ocpp-ts), and must show up in Home Assistant like a
 * configured one, have its session recorded with idTag → user, survive a restart as a known charger
 * (offline until it connects again), and be forgettable through the bridge API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OcppClient } from 'ocpp-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/index.js';
import { ManualClock } from '../../../src/core/clock.js';
import { type RunningDaemon, startDaemon } from '../../../src/daemon.js';
import { silentLogger } from '../../../src/log.js';
import { ACCEPTED_STATIONS_FILE } from '../../../src/ocpp/server/accepted-stations.js';
import { MqttProbe } from '../../helpers/mqtt-probe.js';
import { savedBrokerLogin } from '../../reliability/daemon-rig.js';
import { eventually, freePort } from './harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

interface Ports {
  mqtt: number;
  ocpp: number;
}

async function startFromYaml(dir: string, clock: ManualClock, ports: Ports): Promise<RunningDaemon> {
  const yaml = `
data_dir: ${dir}
timezone: UTC
mqtt:
  embedded_broker: { host: 127.0.0.1, port: ${ports.mqtt} }
users:
  - name: alice
    id_tags: ["04A1B2C3"]
chargers:
  - id: ocpp_wallbox_9
    type: bs20
    transport: simulated
ocpp_server:
  enabled: true
  host: 127.0.0.1
  port: ${ports.ocpp}
  unknown_stations: accept
  ping_interval_s: 0
`;
  const loaded = parseConfigText(yaml, { path: path.join(dir, 'configuration.yaml'), env: {} });
  const daemon = await startDaemon({ loaded, logger: silentLogger(), clock });
  cleanups.push(() => daemon.stop());
  return daemon;
}

function connect(url: string, identity: string): Promise<OcppClient> {
  const client = new OcppClient(identity);
  cleanups.push(() =>
    (
      client as unknown as { connection: { socket: { terminate(): void } } | null }
    ).connection?.socket.terminate(),
  );
  return new Promise((resolve, reject) => {
    client.on('connect', () => resolve(client));
    client.on('error', reject);
    client.connect(`${url}/`);
  });
}

describe('a station accepted by the accept policy, in the daemon', () => {
  it('appears in Home Assistant, records its session, is remembered across a restart and can be forgotten', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-accepted-stations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const ports = { mqtt: await freePort(), ocpp: await freePort() };
    const daemon = await startFromYaml(dir, clock, ports);
    const probe = await MqttProbe.connect(daemon.mqttUrl, savedBrokerLogin(dir));
    cleanups.push(() => probe.close());
    await probe.subscribe('chargebridge/#');
    await probe.subscribe('homeassistant/#');
    await probe.waitFor('chargebridge/bridge/state', (m) => m.text.includes('online'));
    expect(daemon.chargers.map((c) => c.id)).toEqual(['ocpp_wallbox_9']);

    // Its natural id is taken by the BLE charger, so it gets the next free one.
    const client = await connect(`ws://127.0.0.1:${ports.ocpp}/ocpp`, 'Wallbox 9');
    const boot = await client.callRequest('BootNotification', {
      chargePointVendor: 'Acme',
      chargePointModel: 'Home 11',
    });
    expect(boot.status).toBe('Accepted');
    const discovery = await probe.waitFor('homeassistant/device/chargebridge_ocpp_wallbox_9_2/config');
    expect(JSON.parse(discovery.text)).toMatchObject({ device: { name: 'Wallbox 9' } });
    await probe.waitFor('chargebridge/ocpp_wallbox_9_2/availability', (m) => m.text === 'online');
    expect(daemon.chargers.map((c) => c.id)).toEqual(['ocpp_wallbox_9', 'ocpp_wallbox_9_2']);

    // A whole transaction: the session tracker follows the new charger and names the user.
    await clock.advance(1000);
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Preparing',
    });
    const start = await client.callRequest('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 10_000,
      timestamp: new Date(clock.now()).toISOString(),
    });
    expect(start.idTagInfo.status).toBe('Accepted');
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
    });
    await clock.advance(1000);
    await client.callRequest('MeterValues', {
      connectorId: 1,
      transactionId: start.transactionId,
      meterValue: [
        {
          timestamp: new Date(clock.now()).toISOString(),
          sampledValue: [{ value: '10050', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
    await clock.advance(30 * 60_000);
    await client.callRequest('StopTransaction', {
      transactionId: start.transactionId,
      meterStop: 13_500,
      timestamp: new Date(clock.now()).toISOString(),
      reason: 'EVDisconnected',
    });
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Available',
    });
    const charger = daemon.chargers.find((c) => c.id === 'ocpp_wallbox_9_2');
    await eventually(() => charger?.getState().plugged === false, 'the station to be free again', {
      clock,
      stepMs: 1000,
    });
    await probe.publish(
      'chargebridge/bridge/request/sessions/list',
      JSON.stringify({ charger: 'ocpp_wallbox_9_2', include_open: true }),
    );
    const reply = JSON.parse((await probe.waitFor('chargebridge/bridge/response/sessions/list')).text) as {
      data: { total: number; sessions: Array<Record<string, unknown>> };
    };
    expect(reply.data.total).toBe(1);
    expect(reply.data.sessions[0]).toMatchObject({ charger: 'ocpp_wallbox_9_2', user: 'alice' });
    expect(JSON.stringify(reply.data.sessions[0])).toContain('3.5');

    // Remembered on disk; after a restart it is a charger from the start, offline until it connects.
    const remembered = JSON.parse(readFileSync(path.join(dir, ACCEPTED_STATIONS_FILE), 'utf8'));
    expect(remembered.stations).toEqual([
      { identity: 'Wallbox 9', id: 'ocpp_wallbox_9_2', firstSeenAt: Date.UTC(2026, 5, 1, 8, 0, 0) },
    ]);
    await daemon.stop();
    const again = await startFromYaml(dir, clock, ports);
    expect(again.chargers.map((c) => c.id)).toEqual(['ocpp_wallbox_9', 'ocpp_wallbox_9_2']);
    // The embedded broker went down with the daemon: Home Assistant reconnects.
    await probe.close();
    const ha = await MqttProbe.connect(again.mqttUrl, savedBrokerLogin(dir));
    cleanups.push(() => ha.close());
    await ha.subscribe('chargebridge/#');
    await ha.subscribe('homeassistant/#');
    await ha.waitFor('homeassistant/device/chargebridge_ocpp_wallbox_9_2/config', (m) => m.text !== '');
    await ha.waitFor('chargebridge/ocpp_wallbox_9_2/availability', (m) => m.text === 'offline');

    // Forgetting works for an accepted station only, and takes it off the list on disk.
    await ha.publish(
      'chargebridge/bridge/request/ocpp/forget_station',
      JSON.stringify({ station: 'ocpp_wallbox_9' }),
    );
    const refused = JSON.parse(
      (await ha.waitFor('chargebridge/bridge/response/ocpp/forget_station')).text,
    ) as { status: string; error: string };
    expect(refused.status).toBe('error');
    expect(refused.error).toMatch(/not a station accepted/);
    await ha.publish(
      'chargebridge/bridge/request/ocpp/forget_station',
      JSON.stringify({ station: 'ocpp_wallbox_9_2', transaction: 2 }),
    );
    const forgotten = JSON.parse(
      (
        await ha.waitFor('chargebridge/bridge/response/ocpp/forget_station', (m) =>
          m.text.includes('"transaction":2'),
        )
      ).text,
    ) as { status: string };
    expect(forgotten.status).toBe('ok');
    expect(JSON.parse(readFileSync(path.join(dir, ACCEPTED_STATIONS_FILE), 'utf8')).stations).toEqual([]);
  });
});
