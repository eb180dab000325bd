/**
 * The charge-point bridge drives the BS20 through the switching guard, as the daemon wires it: a
 * remote start or a smart-charging resume inside the window is held (not refused, not lost), a pause
 * always stops at once, and a pause while a resume is held withdraws it. The central system is
 * @voltbras/ts-ocpp; the BS20 is the simulator over real EVSE Master bytes; time is a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { guardCharger } from '../../../src/core/switching-guard.js';
import { DEFAULT_SWITCHING_RULES } from '../../../src/core/switching-rules.js';
import { Bs20Charger } from '../../../src/evse-master/charger.js';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import { EvseSession } from '../../../src/evse-master/session.js';
import { createSimulatedTransport } from '../../../src/evse-master/simulator/index.js';
import { silentLogger } from '../../../src/log.js';
import { ChargePointBridge } from '../../../src/ocpp/client/charge-point.js';
import { VoltbrasCentralSystem } from './peers.js';
import { bridgeSettings, cleanupWorld, MINUTE, makeWorld, TZ, waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

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
  const bs20 = new Bs20Charger({
    id: 'garage',
    name: 'Garage',
    session,
    maxCurrentA: 16,
    clock,
    timeZone: TZ,
  });
  const charger = guardCharger(bs20, DEFAULT_SWITCHING_RULES, clock, silentLogger());
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
  });
  bridge.start();
  cleanups.push(() => bridge.stop());
  await waitFor(() => cs.of('Heartbeat').length === 1, 'boot, status and heartbeat');
  sim.plugIn({ demandA: 32 });
  await clock.advance(10_000);
  const starts = () => sim.receivedFrames.filter((f) => f.frame.command === Cmd.ChargeStart).length;
  return { cs, clock, sim, charger, bridge, starts };
}

/** A TxProfile for transaction 1: `amps` below 6 pauses the charge. */
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

describe('the OCPP charge point behind the switching rules', () => {
  it('a pause stops at once; the resume waits for the window; a pause meanwhile withdraws it', async () => {
    const { cs, clock, sim, charger, bridge, starts } = await setup();
    expect(await cs.send('RemoteStartTransaction', { idTag: 'SOLAR' })).toEqual({ status: 'Accepted' });
    // The profiles name transaction 1: its id must be known before they come.
    await waitFor(() => bridge.tracker.transactionId === 1, 'transaction 1');
    await waitFor(() => charger.getState().charging, 'charging', { clock, stepMs: 1_000 });

    expect(await cs.send('SetChargingProfile', txProfile(4))).toEqual({ status: 'Accepted' });
    await waitFor(() => sim.state.chargePhase !== 'charging', 'paused at once');
    const pausedAt = clock.now();

    // The limit lifts 20 s later: inside the window, so the BS20 is not started yet.
    await clock.advance(20_000);
    expect(await cs.send('SetChargingProfile', txProfile(16))).toEqual({ status: 'Accepted' });
    await clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'SuspendedEVSE', 'SuspendedEVSE');
    expect(starts()).toBe(1);

    // And drops again before the window opens: the held resume is withdrawn.
    expect(await cs.send('SetChargingProfile', txProfile(4))).toEqual({ status: 'Accepted' });
    await clock.advance(5 * MINUTE);
    expect(starts()).toBe(1);
    expect(sim.state.chargePhase).not.toBe('charging');

    // Lifted well after the window: the charge resumes in the same transaction.
    expect(clock.now() - pausedAt).toBeGreaterThan(2 * MINUTE);
    expect(await cs.send('SetChargingProfile', txProfile(16))).toEqual({ status: 'Accepted' });
    await waitFor(() => sim.state.chargePhase === 'charging', 'charging again', { clock, stepMs: 1_000 });
    expect(starts()).toBe(2);
    expect(cs.of('StopTransaction')).toEqual([]);
  });

  it('a remote start inside the window is accepted, held, and its transaction begins when the window opens', async () => {
    const { cs, clock, sim, charger, starts } = await setup();
    await charger.startCharging({ currentA: 16 });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction', { clock, stepMs: 1_000 });
    const onAt = clock.now();
    await charger.stopCharging();
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction', { clock, stepMs: 1_000 });

    expect(await cs.send('RemoteStartTransaction', { idTag: 'SOLAR' })).toEqual({ status: 'Accepted' });
    await clock.advance(30_000);
    expect(starts()).toBe(1);
    expect(cs.of('StartTransaction')).toHaveLength(1);

    await clock.advance(onAt + 2 * MINUTE + 5_000 - clock.now());
    await waitFor(() => cs.of('StartTransaction').length === 2, 'the held remote start', {
      clock,
      stepMs: 1_000,
    });
    expect(cs.of('StartTransaction')[1]).toMatchObject({ idTag: 'SOLAR' });
    expect(starts()).toBe(2);
    expect(sim.state.chargePhase).toBe('charging');
  });
});
