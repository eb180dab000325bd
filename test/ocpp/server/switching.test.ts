/**
 * The switching rules on an OCPP station: the central system hands out its connector behind the
 * guard (as createCentralSystem does), an independent charge point (@voltbras/ts-ocpp) answers.
 * What counts is which calls reach the station and what its connector reports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigurable, isRestartable } from '../../../src/core/charger.js';
import {
  guardCharger,
  requestCurrent,
  requestStart,
  requestStop,
} from '../../../src/core/switching-guard.js';
import { DEFAULT_SWITCHING_RULES, type SwitchOutcome } from '../../../src/core/switching-rules.js';
import { silentLogger } from '../../../src/log.js';
import { CsRig, eventually, stationConfig, untilState } from './harness.js';
import { connectPeer, type Peer } from './voltbras-peer.js';

const S = 1000;

let rig: CsRig | null = null;
let peer: Peer | null = null;
afterEach(async () => {
  peer?.cp.close();
  peer = null;
  await rig?.stop();
  rig = null;
});

async function connected(): Promise<{ rig: CsRig; peer: Peer }> {
  // The guard is made when the connector is first handed out, after start() has set `started`.
  const started: CsRig = await CsRig.start({
    stations: [stationConfig('carport', { identity: 'CARPORT', maxCurrentA: 16 })],
    guardCharger: (c) => guardCharger(c, DEFAULT_SWITCHING_RULES, started.clock, silentLogger()),
  });
  rig = started;
  peer = await connectPeer(rig.url, 'CARPORT');
  await peer.send('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'Wallbox' });
  await peer.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
  await untilState(rig.charger('carport'), (s) => s.link === 'online' && s.plugged);
  return { rig, peer };
}

const remoteCalls = (p: Peer, action: string) => p.received.filter((r) => r.action === action).length;

/** The station starts a transaction and reports Charging (after our RemoteStart, or on its own). */
async function stationCharges(p: Peer, at: number): Promise<number> {
  const { transactionId } = (await p.send('StartTransaction', {
    connectorId: 1,
    idTag: 'chargebridge',
    meterStart: 1000,
    timestamp: new Date(at).toISOString(),
  })) as { transactionId: number };
  await p.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
  return transactionId;
}

async function stationStops(p: Peer, transactionId: number, at: number): Promise<void> {
  await p.send('StopTransaction', {
    transactionId,
    meterStop: 1200,
    timestamp: new Date(at).toISOString(),
    reason: 'Local',
  });
  await p.send('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing' });
}

describe('switching rules on an OCPP station', () => {
  it('hands out the connector behind the guard, with the station’s own capabilities', async () => {
    const { rig } = await connected();
    const charger = rig.charger('carport');
    expect(rig.cs.chargers()[0]).toBe(charger);
    expect([isRestartable(charger), isConfigurable(charger)]).toEqual([true, false]);
    expect(charger.getFacts().link).toBe('online');
  });

  it('a quick OFF after ON reaches the station at once; the next ON waits for the window, then goes', async () => {
    const { rig, peer } = await connected();
    const charger = rig.charger('carport');
    expect(await requestStart(charger)).toEqual({ kind: 'applied' });
    const tx = await stationCharges(peer, rig.clock.now());
    await untilState(charger, (s) => s.charging);
    const onAt = rig.clock.now();
    await rig.clock.advance(5 * S);
    const stop = peer.next('RemoteStopTransaction');
    expect(await requestStop(charger)).toEqual({ kind: 'applied' });
    expect((await stop).transactionId).toBe(tx);
    await stationStops(peer, tx, rig.clock.now());
    await untilState(charger, (s) => !s.charging);

    const held = await requestStart(charger);
    expect(held.kind).toBe('deferred');
    const { until, settled } = held as Extract<SwitchOutcome, { kind: 'deferred' }>;
    expect(until).toBe(onAt + 120 * S);
    await rig.clock.advance(until - rig.clock.now() - 1);
    expect(remoteCalls(peer, 'RemoteStartTransaction')).toBe(1);
    const second = peer.next('RemoteStartTransaction');
    await rig.clock.advance(1);
    expect(await second).toMatchObject({ connectorId: 1 });
    expect(await settled).toEqual({ kind: 'applied' });
  });

  it('a transaction the station starts and ends by itself (RFID) opens the window too', async () => {
    const { rig, peer } = await connected();
    const charger = rig.charger('carport');
    const tx = await stationCharges(peer, rig.clock.now());
    await untilState(charger, (s) => s.charging);
    const onAt = rig.clock.now();
    await rig.clock.advance(20 * S);
    await stationStops(peer, tx, rig.clock.now());
    await untilState(charger, (s) => !s.charging);
    const held = await requestStart(charger);
    expect(held.kind === 'deferred' && held.until).toBe(onAt + 120 * S);
    // ON then OFF inside the window: nothing reaches the station.
    expect((await requestStop(charger)).kind).toBe('withdrawn');
    await rig.clock.advance(5 * 60 * S);
    expect(remoteCalls(peer, 'RemoteStartTransaction')).toBe(0);
    expect(remoteCalls(peer, 'RemoteStopTransaction')).toBe(0);
  });

  it('a current dragged through 6…16 A becomes two charging profiles, the last one 16 A', async () => {
    const { rig, peer } = await connected();
    const charger = rig.charger('carport');
    for (let amps = 6; amps <= 16; amps++) {
      await requestCurrent(charger, amps);
      await rig.clock.advance(100);
    }
    await eventually(() => charger.getState().maxCurrentA === 16, 'the 16 A profile', {
      clock: rig.clock,
      stepMs: 500,
    });
    const limits = peer.received
      .filter((r) => r.action === 'SetChargingProfile')
      .map(
        (r) =>
          (r.csChargingProfiles as { chargingSchedule: { chargingSchedulePeriod: Array<{ limit: number }> } })
            .chargingSchedule.chargingSchedulePeriod[0]?.limit,
      );
    expect(limits).toEqual([6, 16]);
    await expect(requestCurrent(charger, 17)).rejects.toMatchObject({ code: 'out_of_range' });
  });
});
