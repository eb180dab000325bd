/**
 * Charge-point behaviours beyond the plain session, against @voltbras/ts-ocpp: an unanswered call
 * (the late-delivery trap of ocpp-rpc), idTags the backend refuses, AuthorizeRemoteTxRequests, a
 * TxProfile inside RemoteStart, and clock-aligned meter values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OcppUpstreamSettings } from '../../../src/ocpp/client/charge-point.js';
import { type TestCentralSystem, VoltbrasCentralSystem } from './peers.js';
import { cleanupWorld, MINUTE, makeRig, makeWorld, Rig, waitFor } from './rig.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function setup(
  settings: Partial<OcppUpstreamSettings> = {},
): Promise<{ cs: TestCentralSystem; rig: Rig }> {
  const world = makeWorld();
  cleanups.push(() => cleanupWorld(world));
  const cs = await VoltbrasCentralSystem.create(world.clock);
  cleanups.push(() => cs.stop());
  const rig = await makeRig({ url: cs.url, world, settings });
  cleanups.push(() => rig.stop());
  await waitFor(() => cs.of('Heartbeat').length === 1, 'boot, status and heartbeat');
  return { cs, rig };
}

async function plugAndStart(rig: Rig): Promise<void> {
  rig.sim.plugIn({ demandA: 32 });
  await rig.clock.advance(10_000);
  await rig.charger.startCharging({ currentA: 16 });
  await rig.clock.advance(1_000);
}

describe('charge point behaviours', () => {
  it('drops the socket when an answer does not come, and sends the message again on the new one', async () => {
    const { cs, rig } = await setup({ callTimeoutS: 30 });
    cs.holdNext = 'StartTransaction';
    await plugAndStart(rig);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'the first StartTransaction');
    const sentAt = Date.parse(String(cs.of('StartTransaction')[0]?.timestamp));
    await rig.clock.advance(sentAt + 30_000 - 1 - rig.clock.now());
    expect(rig.bridge.connection.isOpen).toBe(true);
    await rig.clock.advance(1);
    await waitFor(() => !rig.bridge.connection.isOpen, 'the socket closed after the timeout');
    await waitFor(() => cs.of('StartTransaction').length === 2, 'sent again after reconnecting', {
      clock: rig.clock,
      stepMs: 500,
    });
    await waitFor(() => rig.bridge.tracker.transactionId !== null, 'the transaction id');
    await rig.clock.advance(MINUTE);
    await waitFor(() => cs.of('MeterValues').length >= 1, 'meter values');
    expect(cs.of('MeterValues').every((m) => m.transactionId === rig.bridge.tracker.transactionId)).toBe(
      true,
    );
    // Exactly the held copy and the resent one: nothing from a stale buffer.
    expect(cs.of('StartTransaction')).toHaveLength(2);
    expect(cs.of('StartTransaction')[0]).toEqual(cs.of('StartTransaction')[1]);
    expect(cs.of('BootNotification')).toHaveLength(1);
  });

  it('stops a session whose idTag the backend refuses (StopTransactionOnInvalidId)', async () => {
    const { cs, rig } = await setup();
    cs.idTagStatus = 'Invalid';
    await plugAndStart(rig);
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'the BS20 stopped');
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction');
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'DeAuthorized' });
    expect(rig.frames.problems).toEqual([]);
  });

  it('with StopTransactionOnInvalidId false, only stops the energy: the transaction stays open until unplugged', async () => {
    const { cs, rig } = await setup();
    expect(
      await cs.send('ChangeConfiguration', { key: 'StopTransactionOnInvalidId', value: 'false' }),
    ).toEqual({ status: 'Accepted' });
    cs.idTagStatus = 'Invalid';
    await plugAndStart(rig);
    await waitFor(() => rig.sim.state.chargePhase !== 'charging', 'the BS20 stopped');
    await rig.clock.advance(10_000);
    await waitFor(
      () => cs.of('StatusNotification').some((s) => s.connectorId === 1 && s.status === 'SuspendedEVSE'),
      'SuspendedEVSE',
    );
    expect(cs.of('StopTransaction')).toEqual([]);
    // A default profile re-evaluated later must not start the energy again.
    const profile = {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 9,
        stackLevel: 0,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Relative',
        chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
      },
    };
    expect(await cs.send('SetChargingProfile', profile)).toEqual({ status: 'Accepted' });
    await rig.clock.advance(MINUTE);
    expect(rig.sim.state.chargePhase).not.toBe('charging');
    expect(cs.of('StopTransaction')).toEqual([]);
    // Pulling the cable ends it.
    rig.sim.unplug();
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'StopTransaction');
    expect(cs.of('StopTransaction')[0]).toMatchObject({ transactionId: 1, reason: 'EVDisconnected' });
    expect(rig.frames.problems).toEqual([]);
  });

  it('joins a charge already running at its start: the transaction begins when and where the BS20 session did', async () => {
    const world = makeWorld();
    cleanups.push(() => cleanupWorld(world));
    const cs = await VoltbrasCentralSystem.create(world.clock);
    cleanups.push(() => cs.stop());
    // The charge begins while chargebridge's charge point is not running (daemon down).
    const before = new Rig(world, { url: cs.url });
    await before.charger.open();
    await world.clock.advance(5_000);
    world.sim.plugIn({ demandA: 32 });
    await world.clock.advance(10_000);
    const registerAtStartWh = Math.round((before.charger.getState().energyTotalKwh ?? Number.NaN) * 1000);
    await before.charger.startCharging({ currentA: 16 });
    const chargeStartedAt = world.clock.now();
    await world.clock.advance(30 * MINUTE);
    await before.charger.close();

    const rig = await makeRig({ url: cs.url, world });
    cleanups.push(() => rig.stop());
    await waitFor(() => cs.of('StartTransaction').length === 1, 'the StartTransaction', {
      clock: world.clock,
      stepMs: 1000,
    });
    const start = cs.of('StartTransaction')[0] as { timestamp: string; meterStart: number };
    expect(Math.abs(Date.parse(start.timestamp) - chargeStartedAt)).toBeLessThanOrEqual(5_000);
    // 30 min at 16 A is about 3.7 kWh: the start is the register then, within the BS20's 10 Wh steps.
    expect(Math.abs(start.meterStart - registerAtStartWh)).toBeLessThanOrEqual(20);
    expect(rig.frames.problems).toEqual([]);
  });

  it('asks Authorize before a remote start when AuthorizeRemoteTxRequests is true', async () => {
    const { cs, rig } = await setup();
    expect(await cs.send('ChangeConfiguration', { key: 'AuthorizeRemoteTxRequests', value: 'true' })).toEqual(
      {
        status: 'Accepted',
      },
    );
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    cs.idTagStatus = 'Blocked';
    expect(await cs.send('RemoteStartTransaction', { idTag: 'BLOCKED1' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('Authorize').length === 1, 'Authorize');
    await waitFor(() => !rig.bridge.tracker.awaitingStart, 'the start dropped');
    expect(rig.sim.state.chargePhase).not.toBe('charging');

    cs.idTagStatus = 'Accepted';
    expect(await cs.send('RemoteStartTransaction', { idTag: 'GOOD1' })).toEqual({ status: 'Accepted' });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'started');
    expect(cs.of('Authorize').map((a) => a.idTag)).toEqual(['BLOCKED1', 'GOOD1']);
    expect(cs.of('StartTransaction')[0]?.idTag).toBe('GOOD1');
  });

  it('applies the TxProfile sent with RemoteStartTransaction to the new transaction', async () => {
    const { cs, rig } = await setup();
    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(10_000);
    const chargingProfile = {
      chargingProfileId: 3,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 8 }] },
    };
    expect(await cs.send('RemoteStartTransaction', { idTag: 'P', chargingProfile })).toEqual({
      status: 'Accepted',
    });
    await waitFor(() => cs.of('StartTransaction').length === 1, 'started');
    await waitFor(() => rig.sim.state.configuredCurrentA === 8, 'the BS20 at 8 A');
    const composite = await cs.send('GetCompositeSchedule', {
      connectorId: 1,
      duration: 60,
      chargingRateUnit: 'W',
    });
    expect(
      (composite.chargingSchedule as { chargingSchedulePeriod: unknown }).chargingSchedulePeriod,
    ).toEqual([{ startPeriod: 0, limit: 1840 }]);
    // A profile of the wrong purpose in a remote start is refused.
    await rig.charger.stopCharging();
    await rig.clock.advance(10_000);
    await waitFor(() => cs.of('StopTransaction').length === 1, 'stopped');
    const wrong = { ...chargingProfile, chargingProfilePurpose: 'TxDefaultProfile' };
    expect(await cs.send('RemoteStartTransaction', { idTag: 'P', chargingProfile: wrong })).toEqual({
      status: 'Rejected',
    });
    expect(rig.frames.problems).toEqual([]);
  });

  it('sends clock-aligned meter values on the quarter hour, inside and outside a transaction', async () => {
    const { cs, rig } = await setup({ meterValueSampleIntervalS: 0 });
    expect(await cs.send('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '900' })).toEqual({
      status: 'Accepted',
    });
    const quarter = 15 * MINUTE;
    const next = Math.ceil(rig.clock.now() / quarter) * quarter;
    await rig.clock.advance(next - rig.clock.now());
    await waitFor(() => cs.of('MeterValues').length === 1, 'aligned value without a transaction');
    const idle = cs.of('MeterValues')[0];
    expect(idle?.transactionId).toBeUndefined();
    expect(
      Date.parse((idle?.meterValue as Array<{ timestamp: string }> | undefined)?.[0]?.timestamp ?? ''),
    ).toBe(next);

    await plugAndStart(rig);
    await waitFor(() => cs.of('StartTransaction').length === 1, 'started');
    await rig.clock.advance(next + quarter - rig.clock.now());
    await waitFor(() => cs.of('MeterValues').length === 2, 'aligned value in the transaction');
    const inTx = cs.of('MeterValues')[1];
    expect(inTx?.transactionId).toBe(1);
    const sampled = (
      inTx?.meterValue as
        | Array<{ timestamp: string; sampledValue: Array<Record<string, string>> }>
        | undefined
    )?.[0];
    expect(Date.parse(sampled?.timestamp ?? '')).toBe(next + quarter);
    expect(sampled?.sampledValue).toEqual([
      expect.objectContaining({
        measurand: 'Energy.Active.Import.Register',
        context: 'Sample.Clock',
        unit: 'Wh',
      }),
    ]);
    expect(rig.frames.problems).toEqual([]);
  });
});
