/**
 * The BS20 charge point (simulated BS20 → EvseSession → Bs20Charger → ChargePointBridge) against
 * @voltbras/ts-ocpp's CentralSystem, an independent 1.6J implementation that validates what we send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type TestCentralSystem, VoltbrasCentralSystem } from './peers.js';
import { cleanupWorld, MINUTE, makeRig, makeWorld, type Rig, turns, waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function setup(): Promise<{ cs: TestCentralSystem; rig: Rig }> {
  const world = makeWorld();
  cleanups.push(() => cleanupWorld(world));
  const cs = await VoltbrasCentralSystem.create(world.clock);
  cleanups.push(() => cs.stop());
  const rig = await makeRig({ url: cs.url, world });
  cleanups.push(() => rig.stop());
  await waitFor(() => cs.of('Heartbeat').length === 1, 'boot, status and heartbeat');
  return { cs, rig };
}

/** The energy register of the simulated BS20 as the charger reported it, in Wh. */
const registerWh = (rig: Rig) => Math.round((rig.charger.getState().energyTotalKwh ?? 0) * 1000);

describe('charge point against @voltbras/ts-ocpp', () => {
  it('boots, reports connectors 0 and 1, then sends a heartbeat', async () => {
    const { cs, rig } = await setup();
    expect(cs.received.map((r) => r.action)).toEqual([
      'BootNotification',
      'StatusNotification',
      'StatusNotification',
      'Heartbeat',
    ]);
    expect(cs.of('BootNotification')[0]).toEqual({
      chargePointVendor: 'Besen',
      chargePointModel: 'BS20',
      chargePointSerialNumber: '1122334455667788',
      chargeBoxSerialNumber: '1122334455667788',
      firmwareVersion: 'C.3252.112A008',
    });
    expect(cs.of('StatusNotification').map((s) => [s.connectorId, s.status, s.errorCode])).toEqual([
      [0, 'Available', 'NoError'],
      [1, 'Available', 'NoError'],
    ]);
    expect(rig.bridge.keys.getInt('HeartbeatInterval')).toBe(300);
    // The heartbeat comes again after the interval without other traffic.
    await rig.clock.advance(300_000);
    await waitFor(() => cs.of('Heartbeat').length === 2, 'second heartbeat');
    expect(rig.frames.problems).toEqual([]);
  });

  it('reports a locally started session: Preparing, StartTransaction, periodic MeterValues, StopTransaction Local', async () => {
    const { cs, rig } = await setup();
    const bootMessages = cs.received.length;
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').some((s) => s.status === 'Preparing'), 'Preparing');
    const meterStart = registerWh(rig);

    // Home Assistant (or the app) starts the charge, not the central system.
    await rig.charger.startCharging({ currentA: 16 });
    await rig.clock.advance(1_000);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    const startedAt = rig.clock.now();
    const start = cs.of('StartTransaction')[0];
    expect(start).toMatchObject({ connectorId: 1, idTag: 'HOME', meterStart });
    expect(Number.isInteger(start?.meterStart)).toBe(true);

    await rig.clock.advance(5 * MINUTE);
    await waitFor(() => cs.of('MeterValues').length === 5, 'five periodic meter values');
    const samples = cs.of('MeterValues');
    expect(samples.every((m) => m.connectorId === 1 && m.transactionId === 1)).toBe(true);
    const energy = samples.map((m) => Number(sampled(m, 'Energy.Active.Import.Register')));
    expect(energy).toEqual([...energy].sort((a, b) => a - b));
    expect(energy.at(-1)! - meterStart).toBeGreaterThan(250); // ~3.7 kW for 4 min
    expect(Number(sampled(samples[0]!, 'Power.Active.Import'))).toBeCloseTo(3680, -1);
    expect(sampled(samples[0]!, 'Current.Import', 'L1')).toBe('16');
    expect(sampled(samples[0]!, 'Voltage', 'L1-N')).toBe('230');
    expect(sampled(samples[0]!, 'Current.Offered')).toBe('16');
    expect(sampled(samples[0]!, 'Temperature')).toBeDefined();

    await rig.charger.stopCharging();
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction');
    const meterStop = registerWh(rig);
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, meterStop, reason: 'Local' });
    // 3.68 kW for a little over 5 minutes, on a register with 10 Wh steps.
    expect(meterStop - meterStart).toBeGreaterThanOrEqual(300);
    expect(meterStop - meterStart).toBeLessThan(330);
    rig.sim.unplug();
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'Available', 'Available again');

    const sequence = cs.received
      .slice(bootMessages)
      .filter((r) => r.action !== 'StatusNotification' || r.payload.connectorId === 1)
      .map((r) => (r.action === 'StatusNotification' ? `Status:${r.payload.status}` : r.action));
    expect(dedupe(sequence)).toEqual([
      'Status:Preparing',
      'StartTransaction',
      'Status:Charging',
      'MeterValues',
      'StopTransaction',
      'Status:Finishing',
      'Status:Available',
    ]);
    expect(Date.parse(String(start?.timestamp))).toBe(startedAt - 1_000);
    expect(rig.frames.problems).toEqual([]);
  });

  it('follows RemoteStart and RemoteStop, and refuses the ones it cannot honour', async () => {
    const { cs, rig } = await setup();
    expect(await cs.send('RemoteStartTransaction', { connectorId: 0, idTag: 'X' })).toEqual({
      status: 'Rejected',
    });
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);

    expect(await cs.send('RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE1' })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    expect(cs.of('StartTransaction')[0]).toMatchObject({ connectorId: 1, idTag: 'REMOTE1' });
    expect(rig.sim.state.chargePhase).toBe('charging');
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'Charging', 'Charging');
    // A second start while one runs is refused.
    expect(await cs.send('RemoteStartTransaction', { idTag: 'REMOTE2' })).toEqual({ status: 'Rejected' });

    expect(await cs.send('RemoteStopTransaction', { transactionId: 99 })).toEqual({ status: 'Rejected' });
    expect(await cs.send('RemoteStopTransaction', { transactionId: 1 })).toEqual({ status: 'Accepted' });
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'BLE stop');
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction');
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'Remote' });
    expect(rig.frames.problems).toEqual([]);
  });

  it('waits for the cable after a remote start, up to ConnectionTimeOut', async () => {
    const { cs, rig } = await setup();
    expect(await cs.send('RemoteStartTransaction', { idTag: 'EARLY' })).toEqual({ status: 'Accepted' });
    await waitFor(
      () => cs.of('StatusNotification').at(-1)?.status === 'Preparing',
      'Preparing without cable',
    );
    await rig.clock.advance(30_000);
    rig.sim.plugIn({ demandA: 16 });
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'start once the car is plugged');
    expect(cs.of('StartTransaction')[0]?.idTag).toBe('EARLY');
    await rig.charger.stopCharging();
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'stop');
    rig.sim.unplug();
    await rig.clock.advance(10_000);

    // No car within the 60 s default: the start lapses and the connector is Available again.
    expect(await cs.send('RemoteStartTransaction', { idTag: 'LATE' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'Preparing', 'Preparing');
    await rig.clock.advance(61_000);
    await waitFor(
      () => cs.of('StatusNotification').at(-1)?.status === 'Available',
      'Available after the timeout',
    );
    rig.sim.plugIn({ demandA: 16 });
    await rig.clock.advance(10_000);
    expect(cs.of('StartTransaction')).toHaveLength(1);
    expect(rig.frames.problems).toEqual([]);
  });

  it('lowers the BS20 current when a TxDefaultProfile starts and restores it when the profile expires', async () => {
    const { cs, rig } = await setup();
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    await rig.charger.startCharging({ currentA: 16 });
    await rig.clock.advance(1_000);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    const before = rig.currentSets().length;
    const now = rig.clock.now();
    const from = now + 10 * MINUTE;
    const profile = {
      chargingProfileId: 7,
      stackLevel: 1,
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute',
      chargingSchedule: {
        startSchedule: new Date(from).toISOString(),
        duration: 1800,
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }],
      },
    };
    expect(await cs.send('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile })).toEqual({
      status: 'Accepted',
    });
    const composite = await cs.send('GetCompositeSchedule', { connectorId: 1, duration: 3600 });
    expect(composite).toMatchObject({ status: 'Accepted', connectorId: 1 });
    expect(
      (composite.chargingSchedule as { chargingSchedulePeriod: unknown }).chargingSchedulePeriod,
    ).toEqual([
      { startPeriod: 0, limit: 16 },
      { startPeriod: 600, limit: 8 },
      { startPeriod: 2400, limit: 16 },
    ]);

    await rig.clock.advance(10 * MINUTE - 1);
    await turns(5);
    expect(rig.currentSets().slice(before)).toEqual([]);
    await rig.clock.advance(1);
    await waitFor(() => rig.currentSets().length > before, 'the lower current');
    expect(rig.currentSets().slice(before)).toEqual([[from, 8]]);
    await rig.clock.advance(5 * MINUTE);
    await waitFor(() => sampledOfLast(cs, 'Current.Offered') === '8', 'meter values at 8 A');
    expect(Number(sampledOfLast(cs, 'Power.Active.Import'))).toBeCloseTo(1840, -1);

    await rig.clock.advance(25 * MINUTE);
    await waitFor(() => rig.currentSets().length > before + 1, 'the current restored');
    expect(rig.currentSets().slice(before)).toEqual([
      [from, 8],
      [from + 30 * MINUTE, 16],
    ]);
    expect(rig.sim.state.configuredCurrentA).toBe(16);
    expect(cs.of('StopTransaction')).toEqual([]);
    expect(rig.frames.problems).toEqual([]);
  });

  it('pauses below 6 A (SuspendedEVSE) inside the same transaction and resumes when the limit lifts', async () => {
    const { cs, rig } = await setup();
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    expect(await cs.send('RemoteStartTransaction', { idTag: 'SOLAR' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    await rig.clock.advance(10_000);
    const pauseFrom = rig.clock.now();
    // 1 kW on one phase is 4.3 A: below what the pilot signal allows.
    const profile = {
      chargingProfileId: 11,
      transactionId: 1,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: {
        duration: 1200,
        chargingRateUnit: 'W',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 1000 }],
      },
    };
    expect(await cs.send('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'the BS20 stopped');
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'SuspendedEVSE', 'SuspendedEVSE');
    expect(cs.of('StopTransaction')).toEqual([]);
    await rig.clock.advance(2 * MINUTE);
    await waitFor(() => sampledOfLast(cs, 'Current.Offered') === '0', 'offered 0 A while paused');

    // Relative to the transaction start (20 s before the profile came): it ends 1200 s after that.
    const startedAt = Date.parse(String(cs.of('StartTransaction')[0]?.timestamp));
    await rig.clock.advance(startedAt + 1_200_000 - rig.clock.now());
    await waitFor(() => rig.sim.state.chargePhase === 'charging', 'charging again');
    expect(rig.sim.state.session?.currentA).toBe(16);
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StatusNotification').at(-1)?.status === 'Charging', 'Charging again');
    expect(cs.of('StartTransaction')).toHaveLength(1);
    expect(pauseFrom).toBeLessThan(startedAt + 1_200_000);

    expect(await cs.send('RemoteStopTransaction', { transactionId: 1 })).toEqual({ status: 'Accepted' });
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction');
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'Remote' });
    // The TxProfile ended with its transaction.
    expect(await cs.send('ClearChargingProfile', { id: 11 })).toEqual({ status: 'Unknown' });
    expect(rig.frames.problems).toEqual([]);
  });

  it('survives a 10-minute outage mid-session: everything queued arrives once, in order', async () => {
    const { cs, rig } = await setup();
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    await rig.charger.startCharging({ currentA: 16 });
    await rig.clock.advance(1_000);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'StartTransaction');
    await rig.clock.advance(2 * MINUTE);
    await waitFor(() => cs.of('MeterValues').length === 2, 'meter values before the outage');

    await cs.stop();
    const beforeOutage = cs.received.length;
    await waitFor(() => !rig.bridge.connection.isOpen, 'the socket to drop');
    // Ten minutes without the central system; the car is stopped locally after eight.
    for (let s = 0; s < 48; s++) {
      await rig.clock.advance(10_000);
      await turns(5);
    }
    await rig.charger.stopCharging();
    for (let s = 0; s < 12; s++) {
      await rig.clock.advance(10_000);
      await turns(5);
    }
    expect(rig.bridge.tracker.open).toBeNull();
    const queued = rig.bridge.queue.entries().map((e) => e.action);
    expect(queued.filter((a) => a === 'MeterValues').length).toBeGreaterThanOrEqual(7);
    expect(queued.at(-1)).toBe('StopTransaction');

    await cs.start();
    await waitFor(() => cs.of('StopTransaction').length === 1, 'the queue delivered', {
      clock: rig.clock,
      stepMs: 2_000,
    });
    await waitFor(() => rig.bridge.queue.size === 0, 'queue empty');
    expect(cs.of('StartTransaction')).toHaveLength(1);
    expect(cs.of('BootNotification')).toHaveLength(1);
    // Reconnected without a new boot: status first, then the queue in order.
    const afterOutage = cs.received
      .slice(beforeOutage)
      .map((r) => r.action)
      .filter((a) => a !== 'Heartbeat');
    expect(dedupe(afterOutage)).toEqual(['StatusNotification', 'MeterValues', 'StopTransaction']);
    const actions = cs.received
      .map((r) => r.action)
      .filter((a) => a !== 'StatusNotification' && a !== 'Heartbeat');
    expect(actions.at(-1)).toBe('StopTransaction');
    // One sample a minute from the start to the stop: no gap (nothing lost), no repeat (nothing doubled).
    const times = cs
      .of('MeterValues')
      .map((m) => Date.parse((m.meterValue as Array<{ timestamp: string }>)[0]!.timestamp));
    const startedAt = Date.parse(String(cs.of('StartTransaction')[0]?.timestamp));
    const stoppedAt = Date.parse(String(cs.of('StopTransaction')[0]?.timestamp));
    const expected: number[] = [];
    for (let t = startedAt + MINUTE; t < stoppedAt; t += MINUTE) expected.push(t);
    expect(times).toEqual(expected);
    expect(times.length).toBe(2 + queued.filter((a) => a === 'MeterValues').length);
    expect(cs.of('MeterValues').every((m) => m.transactionId === 1)).toBe(true);
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'Local' });
    // After the reconnect the connector status is sent again (it is never queued).
    expect(cs.of('StatusNotification').at(-1)).toMatchObject({ connectorId: 1, status: 'Finishing' });
    expect(rig.frames.problems).toEqual([]);
  });
});

function sampled(request: Record<string, unknown>, measurand: string, phase?: string): string | undefined {
  const meterValue = (request.meterValue as Array<{ sampledValue: Array<Record<string, string>> }>)[0];
  return meterValue?.sampledValue.find(
    (v) => v.measurand === measurand && (phase === undefined || v.phase === phase),
  )?.value;
}

function sampledOfLast(cs: TestCentralSystem, measurand: string): string | undefined {
  const last = cs.of('MeterValues').at(-1);
  return last ? sampled(last, measurand) : undefined;
}

/** Collapses repeats (a run of MeterValues reads as one step). */
function dedupe(items: string[]): string[] {
  return items.filter((item, i) => item !== items[i - 1]);
}
