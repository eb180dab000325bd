/**
 * A real OCPP 1.6J station (voltbras peer) in one transaction that goes Faulted and SuspendedEVSE
 * and back to Charging: the session store keeps one session spanning the transaction, with the
 * pauses recorded and the stop reason from StopTransaction (or from the fault that did not clear).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { SessionStore } from '../../../src/sessions/store.js';
import { type SessionEvent, SessionTracker } from '../../../src/sessions/tracker.js';
import { CsRig, stationConfig, USERS, untilState } from './harness.js';
import { connectPeer, type Peer } from './voltbras-peer.js';

const MINUTE = 60_000;
let rig: CsRig;
let peer: Peer;
let tracker: SessionTracker;
let store: SessionStore;
const completed: SessionEvent[] = [];

afterEach(async () => {
  peer.cp.close();
  await tracker.stop();
  await rig.stop();
});

async function start(): Promise<number> {
  completed.length = 0;
  rig = await CsRig.start({ stations: [stationConfig('carport', { identity: 'CARPORT' })] });
  const logger = silentLogger();
  store = await SessionStore.open({
    dataDir: join(rig.dataDir, 'sessions'),
    timeZone: 'UTC',
    clock: rig.clock,
    logger,
  });
  tracker = new SessionTracker({
    store,
    chargers: rig.cs.chargers(),
    users: USERS,
    timeZone: 'UTC',
    clock: rig.clock,
    logger,
    announceDelayMs: 0,
  });
  tracker.events.on('session_completed', (e) => completed.push(e));
  tracker.start();
  peer = await connectPeer(rig.url, 'CARPORT');
  await peer.send('BootNotification', { chargePointVendor: 'Besen', chargePointModel: 'BS20-OCPP' });
  await status('Preparing');
  const { transactionId } = (await peer.send('StartTransaction', {
    connectorId: 1,
    idTag: 'BOBCARD',
    meterStart: 40_000,
    timestamp: new Date(rig.clock.now()).toISOString(),
  })) as { transactionId: number };
  await status('Charging');
  return transactionId;
}

async function status(status: string, errorCode = 'NoError'): Promise<void> {
  await peer.send('StatusNotification', { connectorId: 1, errorCode, status });
  await untilState(rig.charger('carport'), (s) => s.raw.ocppStatus === status, status);
}

async function meter(transactionId: number, wh: number): Promise<void> {
  await peer.send('MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [
      {
        timestamp: new Date(rig.clock.now()).toISOString(),
        sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
      },
    ],
  });
  await untilState(rig.charger('carport'), (s) => s.energyTotalKwh === wh / 1000, `${wh} Wh`);
}

describe('an OCPP transaction with a fault and a station pause inside', () => {
  it('is one session with both pauses and the StopTransaction reason', async () => {
    const tx = await start();
    await rig.clock.advance(10 * MINUTE);
    await meter(tx, 41_000);
    const faultAt = rig.clock.now();
    await status('Faulted', 'GroundFailure');
    await rig.clock.advance(2 * MINUTE);
    await status('Charging');
    await rig.clock.advance(10 * MINUTE);
    await meter(tx, 42_000);
    const suspendedAt = rig.clock.now();
    await status('SuspendedEVSE');
    await rig.clock.advance(5 * MINUTE);
    await status('Charging');
    await rig.clock.advance(10 * MINUTE);
    await peer.send('StopTransaction', {
      transactionId: tx,
      meterStop: 43_000,
      timestamp: new Date(rig.clock.now()).toISOString(),
      reason: 'EVDisconnected',
    });
    await status('Available');
    await tracker.idle();

    expect(completed).toHaveLength(1);
    const s = store.query({ chargerId: 'carport' });
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({
      chargerSessionId: String(tx),
      energyKwh: 3,
      stopReason: 'unplugged',
      pauses: [
        { from: faultAt, to: faultAt + 2 * MINUTE, reason: 'fault' },
        { from: suspendedAt, to: suspendedAt + 5 * MINUTE, reason: 'suspended_evse' },
      ],
    });
  });

  it('ends with `error` when the fault did not clear before the transaction ended', async () => {
    const tx = await start();
    await rig.clock.advance(10 * MINUTE);
    await meter(tx, 41_000);
    await status('Faulted', 'GroundFailure');
    await rig.clock.advance(MINUTE);
    await peer.send('StopTransaction', {
      transactionId: tx,
      meterStop: 41_000,
      timestamp: new Date(rig.clock.now()).toISOString(),
      reason: 'Other',
    });
    await untilState(rig.charger('carport'), (s) => s.session?.endedAt != null, 'the stop');
    await tracker.idle();

    const [s] = store.query({ chargerId: 'carport' });
    expect(s).toMatchObject({ energyKwh: 1, stopReason: 'error', pauses: [] });
  });
});
