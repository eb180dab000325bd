/**
 * An independent charge point (@voltbras/ts-ocpp ChargePoint, its own schemas and JSON handling)
 * against our central system on loopback: boot, status, a remote-started transaction with meter
 * values, a current limit, a remote stop, and a dropped connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChargerCommandError, type ChargerEvent } from '../../../src/core/charger.js';
import { CsRig, untilState } from './harness.js';
import { connectPeer, type Peer } from './voltbras-peer.js';

let rig: CsRig;
let peer: Peer | null = null;

afterEach(async () => {
  peer?.cp.close();
  peer = null;
  await rig.stop();
});

const at = (minute: number) => new Date(Date.UTC(2026, 2, 10, 18, minute, 0)).toISOString();

describe('voltbras ChargePoint against the central system', () => {
  it('runs a whole remote-started session and sends only schema-valid frames', async () => {
    rig = await CsRig.start();
    const charger = rig.charger();
    const events: ChargerEvent[] = [];
    charger.events.on('event', (e) => events.push(e));
    expect(charger.getState().link).toBe('offline');

    peer = await connectPeer(rig.url, 'GARAGE');
    const gotConfig = peer.next('GetConfiguration');
    const gotTrigger = peer.next('TriggerMessage');
    const boot = await peer.send('BootNotification', {
      chargePointVendor: 'Besen',
      chargePointModel: 'BS20-OCPP',
      chargeBoxSerialNumber: 'SN-0042',
      firmwareVersion: '1.2.3',
    });
    expect(boot).toMatchObject({
      status: 'Accepted',
      interval: 300,
      currentTime: rig.clock.now() && expect.any(String),
    });
    expect(charger.getState().link).toBe('online');
    expect(charger.getInfo()).toMatchObject({
      manufacturer: 'Besen',
      model: 'BS20-OCPP',
      serialNumber: 'SN-0042',
      firmwareVersion: '1.2.3',
    });
    // After the boot the central system learns the stack level and asks for every status.
    await gotConfig;
    expect((await gotTrigger).requestedMessage).toBe('StatusNotification');

    await peer.send('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' });
    await peer.send('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Preparing',
      timestamp: at(1),
    });
    expect(charger.getState()).toMatchObject({
      plugged: true,
      charging: false,
      status: 'plugged',
      raw: { ocppStatus: 'Preparing' },
    });

    const remoteStart = peer.next('RemoteStartTransaction');
    await charger.startCharging({ userId: 'alice' });
    expect(await remoteStart).toMatchObject({ connectorId: 1, idTag: '04A1B2C3' });

    const started = await peer.send('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 1000,
      timestamp: at(2),
    });
    expect(started).toMatchObject({ idTagInfo: { status: 'Accepted' }, transactionId: expect.any(Number) });
    const txId = started.transactionId as number;
    await peer.send('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Charging',
      timestamp: at(2),
    });
    await peer.send('MeterValues', {
      connectorId: 1,
      transactionId: txId,
      meterValue: [
        {
          timestamp: at(3),
          sampledValue: [
            { value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
            { value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' },
            ...[1, 2, 3].flatMap((n) => [
              { value: String(10 + n), measurand: 'Current.Import', phase: `L${n}`, unit: 'A' },
              { value: '230.5', measurand: 'Voltage', phase: `L${n}-N`, unit: 'V' },
            ]),
            { value: '16', measurand: 'Current.Offered', unit: 'A' },
          ],
        },
      ],
    });
    const charging = charger.getState();
    expect(charging).toMatchObject({
      status: 'charging',
      charging: true,
      powerW: 7200,
      energyTotalKwh: 2.5,
      maxCurrentA: 16,
      session: { chargerSessionId: String(txId), userId: 'alice', idTag: '04A1B2C3', energyKwh: 1.5 },
    });
    expect(charging.phases).toEqual([
      { voltageV: 230.5, currentA: 11 },
      { voltageV: 230.5, currentA: 12 },
      { voltageV: 230.5, currentA: 13 },
    ]);
    expect(charger.getInfo().phases).toBe(3);

    const profile = peer.next('SetChargingProfile');
    await charger.setMaxCurrent(10);
    expect(await profile).toMatchObject({
      connectorId: 1,
      csChargingProfiles: {
        chargingProfilePurpose: 'TxDefaultProfile',
        stackLevel: 8,
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      },
    });
    expect(charger.getState().maxCurrentA).toBe(10);
    await expect(charger.setMaxCurrent(40)).rejects.toMatchObject({ code: 'out_of_range' });
    expect(peer.received.filter((r) => r.action === 'SetChargingProfile')).toHaveLength(1);

    const remoteStop = peer.next('RemoteStopTransaction');
    await charger.stopCharging();
    expect((await remoteStop).transactionId).toBe(txId);
    await peer.send('StopTransaction', {
      transactionId: txId,
      meterStop: 5000,
      timestamp: at(30),
      reason: 'Remote',
    });
    expect(charger.getState()).toMatchObject({
      charging: false,
      status: 'finished',
      session: { energyKwh: 4, durationS: 28 * 60 },
    });
    await peer.send('StatusNotification', {
      connectorId: 1,
      errorCode: 'NoError',
      status: 'Finishing',
      timestamp: at(30),
    });
    expect(charger.getState()).toMatchObject({ status: 'finished', plugged: true });

    expect(events.map((e) => e.type)).toEqual([
      'link_up',
      'plugged',
      'rfid',
      'charging_started',
      'charging_stopped',
    ]);
    expect(events.find((e) => e.type === 'charging_stopped')?.data).toEqual({ reason: 'Remote' });
    expect(rig.ledger.get(txId)).toMatchObject({
      meterStartWh: 1000,
      meterStopWh: 5000,
      stopReason: 'Remote',
    });
    // 8 answers + GetConfiguration, TriggerMessage, RemoteStart, SetChargingProfile, RemoteStop.
    expect(rig.frames.frames.filter((f) => f.outbound).length).toBe(13);
    expect(rig.frames.problems()).toEqual([]);

    peer.cp.close();
    peer = null;
    await untilState(charger, (s) => s.link === 'offline', 'offline');
    const refused = await charger.setMaxCurrent(8).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChargerCommandError);
    expect((refused as ChargerCommandError).code).toBe('offline');
    expect((refused as Error).message).toMatch(
      /station garage is not connected \(last seen .*\); nothing was sent/,
    );
  });

  it('answers a replayed StartTransaction with the same id and an unknown StopTransaction anyway', async () => {
    rig = await CsRig.start();
    peer = await connectPeer(rig.url, 'GARAGE');
    await peer.send('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Box' });
    const start = { connectorId: 1, idTag: 'bobcard', meterStart: 200, timestamp: at(5) };
    const first = await peer.send('StartTransaction', start);
    const again = await peer.send('StartTransaction', start);
    expect(again.transactionId).toBe(first.transactionId);
    expect(first.idTagInfo).toEqual({ status: 'Accepted' });
    expect(rig.charger().getState().session).toMatchObject({ userId: 'bob', idTag: 'bobcard' });
    const next = await peer.send('StartTransaction', { ...start, meterStart: 300, timestamp: at(6) });
    expect(next.transactionId as number).toBeGreaterThan(first.transactionId as number);
    await expect(
      peer.send('StopTransaction', { transactionId: 999_999, meterStop: 1, timestamp: at(7) }),
    ).resolves.toEqual({});
    const stranger = await peer.send('Authorize', { idTag: 'NOBODY' });
    expect(stranger).toEqual({ idTagInfo: { status: 'Invalid' } });
    expect(rig.frames.problems()).toEqual([]);
  });
});

describe('a restart of chargebridge during a transaction', () => {
  it('still knows the open transaction, so it can be stopped remotely', async () => {
    const first = await CsRig.start();
    const dataDir = first.dataDir;
    let p = await connectPeer(first.url, 'GARAGE');
    await p.send('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Box' });
    const { transactionId } = (await p.send('StartTransaction', {
      connectorId: 1,
      idTag: '04A1B2C3',
      meterStart: 500,
      timestamp: at(1),
    })) as { transactionId: number };
    p.cp.close();
    await first.cs.stop();

    rig = await CsRig.start({ dataDir });
    expect(rig.charger().getState().session).toMatchObject({
      chargerSessionId: String(transactionId),
      userId: 'alice',
    });
    p = await connectPeer(rig.url, 'GARAGE');
    peer = p;
    await p.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    const remoteStop = p.next('RemoteStopTransaction');
    await rig.charger().stopCharging();
    expect((await remoteStop).transactionId).toBe(transactionId);
    await first.stop();
  });
});
