/**
 * An independent charge point (ocpp-ts OcppClient: ws 8 + ajv 6, validates every call we send)
 * against our central system with security profile 1: Basic auth good and bad, stations that are
 * not configured under each policy, and a full transaction.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcppClient } from 'ocpp-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { hashStationPassword } from '../../../src/ocpp/server/passwords.js';
import { CsRig, stationConfig, untilState } from './harness.js';

let rig: CsRig;
const clients: OcppClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0))
    (c as unknown as { connection: { socket: { terminate(): void } } | null }).connection?.socket.terminate();
  await rig.stop();
});

function basic(identity: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${identity}:${password}`).toString('base64')}` };
}

/** Connects; resolves 'connected' or the refusal (ws reports the HTTP status in the error). */
function connect(
  identity: string,
  headers?: Record<string, string>,
): Promise<{ client: OcppClient; outcome: string }> {
  const client = new OcppClient(identity);
  clients.push(client);
  return new Promise((resolve) => {
    client.on('connect', () => resolve({ client, outcome: 'connected' }));
    client.on('error', (err) => resolve({ client, outcome: err.message }));
    client.connect(`${rig.url}/`, headers);
  });
}

const SECRET = 'correct horse battery';
const stations = [
  stationConfig('garage', { password: SECRET }),
  stationConfig('carport', { identity: 'CP-77', password: hashStationPassword(SECRET, 'scrypt') }),
  stationConfig('shed', { identity: 'SHED', password: hashStationPassword(SECRET, 'sha256') }),
];

describe('ocpp-ts OcppClient with security profile 1', () => {
  it('accepts the right password in clear, scrypt and sha256 form and refuses a wrong one with 401', async () => {
    rig = await CsRig.start({ securityProfile: 1, stations });
    const refusals: number[] = [];
    rig.cs.events.on('connection_refused', (r) => refusals.push(r.status));
    for (const identity of ['GARAGE', 'CP-77', 'SHED']) {
      expect((await connect(identity, basic(identity, SECRET))).outcome).toBe('connected');
    }
    expect((await connect('GARAGE', basic('GARAGE', 'wrong'))).outcome).toMatch(/401/);
    expect((await connect('CP-77')).outcome).toMatch(/401/);
    // The Basic user name must be the station's own identity.
    expect((await connect('SHED', basic('GARAGE', SECRET))).outcome).toMatch(/401/);
    expect(refusals).toEqual([401, 401, 401]);
    expect(rig.charger('carport').getState().link).toBe('online');
  });

  it('refuses an unknown station by default', async () => {
    rig = await CsRig.start({ securityProfile: 1, stations });
    expect((await connect('STRANGER', basic('STRANGER', 'x'))).outcome).toMatch(/404/);
  });

  it('boots an unknown station as Pending under the pending policy and never exposes it as a charger', async () => {
    rig = await CsRig.start({
      securityProfile: 1,
      stations,
      unknownStations: 'pending',
      pendingIntervalS: 45,
    });
    const unknown: string[] = [];
    rig.cs.events.on('unknown_station', (u) => unknown.push(`${u.identity}:${u.admission}`));
    const { client, outcome } = await connect('STRANGER');
    expect(outcome).toBe('connected');
    const boot = await client.callRequest('BootNotification', {
      chargePointVendor: 'X',
      chargePointModel: 'Y',
    });
    expect(boot).toMatchObject({ status: 'Pending', interval: 45 });
    const start = await client.callRequest('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 0,
      timestamp: new Date(rig.clock.now()).toISOString(),
    });
    expect(start.idTagInfo.status).toBe('Invalid');
    // Nothing in the ledger on disk: an unknown device cannot grow it.
    expect(start.transactionId).toBe(0);
    expect(rig.ledger.openOn('ocpp_stranger', 1)).toBeNull();
    expect(
      await readFile(join(rig.dataDir, 'ocpp-transactions.json'), 'utf8').catch(() => 'none'),
    ).not.toMatch(/04A1B2C3/);
    expect(unknown).toEqual(['STRANGER:pending']);
    expect(rig.cs.chargers().map((c) => c.id)).toEqual(['garage', 'carport', 'shed']);
    expect(rig.frames.problems()).toEqual([]);
    // Gone with its connection: made-up identities cannot pile up in memory.
    const gone = new Promise((resolve) => rig.cs.events.once('station_disconnected', resolve));
    (client as unknown as { connection: { socket: { terminate(): void } } }).connection.socket.terminate();
    await gone;
    expect(rig.cs.station('STRANGER')).toBeUndefined();
  });

  it('accepts an unknown station under the accept policy', async () => {
    rig = await CsRig.start({ stations: [], unknownStations: 'accept' });
    const { client } = await connect('Wallbox 9');
    const boot = await client.callRequest('BootNotification', {
      chargePointVendor: 'X',
      chargePointModel: 'Y',
    });
    expect(boot.status).toBe('Accepted');
    expect(rig.cs.station('Wallbox 9')?.chargers.map((c) => c.id)).toEqual(['ocpp_wallbox_9']);
  });

  it('runs a transaction with meter values and answers remote commands', async () => {
    rig = await CsRig.start({ securityProfile: 1, stations });
    const { client } = await connect('CP-77', basic('CP-77', SECRET));
    const seen: Array<[string, unknown]> = [];
    client.on('RemoteStartTransaction', (req, cb) => {
      seen.push(['RemoteStartTransaction', req]);
      cb({ status: 'Accepted' });
    });
    client.on('SetChargingProfile', (req, cb) => {
      seen.push(['SetChargingProfile', req]);
      cb({ status: 'Rejected' });
    });
    client.on('Reset', (req, cb) => {
      seen.push(['Reset', req]);
      cb({ status: 'Accepted' });
    });
    const charger = rig.charger('carport');
    await client.callRequest('BootNotification', { chargePointVendor: 'Wallbe', chargePointModel: 'Pro' });
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Preparing',
    });
    await charger.startCharging();
    const now = new Date(rig.clock.now()).toISOString();
    const { transactionId } = await client.callRequest('StartTransaction', {
      connectorId: 1,
      idTag: 'chargebridge',
      meterStart: 12_000,
      timestamp: now,
    });
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
    });
    await client.callRequest('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: now,
          sampledValue: [
            { value: '12.75', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
            { value: '3680', measurand: 'Power.Active.Import', unit: 'W' },
            { value: '16.0', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
            { value: '230', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
            { value: '31', measurand: 'Temperature', unit: 'Celsius', location: 'Body' },
          ],
        },
      ],
    } as never);
    expect(charger.getState()).toMatchObject({
      charging: true,
      powerW: 3680,
      energyTotalKwh: 12.75,
      phases: [{ voltageV: 230, currentA: 16 }],
      temperatureInnerC: 31,
      // Our own default tag names nobody: the session carries no tag (the tracker falls back to the selected user).
      session: { chargerSessionId: String(transactionId), idTag: null, userId: null, energyKwh: 0.75 },
    });
    await expect(charger.setMaxCurrent(8)).rejects.toMatchObject({
      code: 'rejected',
      message: expect.stringMatching(/did not accept a 8 A limit \(SetChargingProfile Rejected\)/),
    });
    expect(charger.getState().maxCurrentA).toBeNull();
    await charger.restart();
    expect(seen.map(([a]) => a)).toEqual(['RemoteStartTransaction', 'SetChargingProfile', 'Reset']);
    expect(seen[0]?.[1]).toEqual({ connectorId: 1, idTag: 'chargebridge' });
    expect(seen[2]?.[1]).toEqual({ type: 'Soft' });
    const stop = await client.callRequest('StopTransaction', {
      transactionId,
      meterStop: 13_500,
      timestamp: now,
      reason: 'EVDisconnected',
    });
    expect(stop).toEqual({});
    await client.callRequest('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Available',
    });
    await untilState(charger, (s) => s.status === 'available' && !s.plugged, 'available');
    expect(charger.getState().energyTotalKwh).toBe(13.5);
    expect(rig.frames.problems()).toEqual([]);
  });
});
