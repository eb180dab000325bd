/**
 * A charging profile that pauses the BS20 behind the OCPP charge point (below 6 A: the BS20 is
 * stopped, then started again under a new charge id when the limit lifts) stays one session in the
 * session store, with the pause recorded; it ends when the car leaves. The central system is
 * @voltbras/ts-ocpp; the BS20 is the simulator over real EVSE Master bytes; time is a ManualClock.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Bs20Charger } from '../../../src/evse-master/charger.js';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import { EvseSession } from '../../../src/evse-master/session.js';
import { createSimulatedTransport } from '../../../src/evse-master/simulator/index.js';
import { silentLogger } from '../../../src/log.js';
import { ChargePointBridge } from '../../../src/ocpp/client/charge-point.js';
import { SessionStore } from '../../../src/sessions/store.js';
import { type SessionEvent, SessionTracker } from '../../../src/sessions/tracker.js';
import { VoltbrasCentralSystem } from './peers.js';
import { bridgeSettings, cleanupWorld, MINUTE, makeWorld, TZ, waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

const txProfile = (amps: number) => ({
  connectorId: 1,
  csChargingProfiles: {
    chargingProfileId: 11,
    transactionId: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxProfile',
    chargingProfileKind: 'Relative',
    chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: amps }] },
  },
});

/** The daemon's wiring: BS20, session tracker, and the charge point bridge telling the tracker of its stops. */
async function setup() {
  const world = makeWorld();
  cleanups.push(() => cleanupWorld(world));
  const { clock, sim } = world;
  const cs = await VoltbrasCentralSystem.create(clock);
  cleanups.push(() => cs.stop());
  const session = new EvseSession({
    transport: createSimulatedTransport(sim),
    pin: '123456',
    clock,
    timeZone: TZ,
  });
  const charger = new Bs20Charger({
    id: 'garage',
    name: 'Garage',
    session,
    maxCurrentA: 16,
    clock,
    timeZone: TZ,
  });
  const store = await SessionStore.open({ dataDir: join(world.dataDir, 'sessions'), timeZone: TZ, clock });
  const tracker = new SessionTracker({ store, chargers: [charger], timeZone: TZ, clock });
  const completed: SessionEvent[] = [];
  tracker.events.on('session_completed', (e) => completed.push(e));
  tracker.start();
  cleanups.push(() => tracker.stop());
  await charger.open();
  cleanups.push(() => charger.close());
  await clock.advance(5_000);
  const bridge = await ChargePointBridge.open({
    charger,
    settings: bridgeSettings(cs.url),
    dataDir: world.dataDir,
    timeZone: TZ,
    clock,
    logger: silentLogger(),
    onStopRequested: () => tracker.noteStopRequested('garage'),
    onPauseRequested: (reason) => tracker.notePauseRequested('garage', reason),
  });
  bridge.start();
  cleanups.push(() => bridge.stop());
  await waitFor(() => cs.of('Heartbeat').length === 1, 'boot, status and heartbeat');
  sim.plugIn({ demandA: 32 });
  await clock.advance(10_000);
  return { clock, sim, cs, charger, bridge, store, completed, tracker };
}

describe('a charging profile pause on the charge point side', () => {
  it('keeps one session with the pause, from plug-in to unplug', async () => {
    const { clock, sim, cs, charger, bridge, store, completed, tracker } = await setup();
    const meterStart = sim.state.energyTotalKwh;

    expect(await cs.send('RemoteStartTransaction', { idTag: 'SOLAR' })).toEqual({ status: 'Accepted' });
    await waitFor(() => bridge.tracker.transactionId === 1, 'transaction 1');
    await waitFor(() => charger.getState().charging, 'charging', { clock, stepMs: 1_000 });
    await clock.advance(10 * MINUTE);

    expect(await cs.send('SetChargingProfile', txProfile(4))).toEqual({ status: 'Accepted' });
    await waitFor(() => !charger.getState().charging, 'paused', { clock, stepMs: 1_000 });
    await clock.advance(10 * MINUTE);
    expect(await cs.send('SetChargingProfile', txProfile(16))).toEqual({ status: 'Accepted' });
    await waitFor(() => charger.getState().charging, 'charging again', { clock, stepMs: 1_000 });
    await clock.advance(10 * MINUTE);
    sim.unplug();
    await waitFor(() => completed.length > 0, 'the session completed', { clock, stepMs: 1_000 });
    await tracker.idle();

    // The BS20 started twice (two charge ids), the OCPP transaction and the session once each.
    expect(sim.receivedFrames.filter((f) => f.frame.command === Cmd.ChargeStart)).toHaveLength(2);
    expect(store.query()).toHaveLength(1);
    const s = store.query()[0]!;
    expect(s.stopReason).toBe('unplugged');
    expect(s.energyKwh).toBeCloseTo(sim.state.energyTotalKwh - meterStart, 2);
    expect(s.pauses).toHaveLength(1);
    expect(s.pauses?.[0]?.reason).toBe('charging_profile');
    const pause = s.pauses![0]!;
    expect((pause.to ?? 0) - pause.from).toBeGreaterThanOrEqual(10 * MINUTE);
  });

  it('ends the session when the central system stops the transaction, the car still plugged in', async () => {
    const { clock, sim, cs, charger, bridge, store, completed, tracker } = await setup();
    expect(await cs.send('RemoteStartTransaction', { idTag: 'SOLAR' })).toEqual({ status: 'Accepted' });
    await waitFor(() => bridge.tracker.transactionId === 1, 'transaction 1');
    await waitFor(() => charger.getState().charging, 'charging', { clock, stepMs: 1_000 });
    await clock.advance(10 * MINUTE);
    expect(await cs.send('RemoteStopTransaction', { transactionId: 1 })).toEqual({ status: 'Accepted' });
    await waitFor(() => completed.length > 0, 'the session completed', { clock, stepMs: 1_000 });
    await tracker.idle();

    expect(sim.state.carConnected).toBe(true);
    expect(store.query().map((s) => s.stopReason)).toEqual(['remote']);
  });
});
