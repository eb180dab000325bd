import { describe, expect, it } from 'vitest';
import { Cmd } from '../../../src/evse-master/protocol/commands.js';
import { encodeChargeRecordAck } from '../../../src/evse-master/protocol/messages/record.js';
import { encodeMaxCurrentSetting } from '../../../src/evse-master/protocol/messages/settings.js';
import { emTimeFromUnixMs } from '../../../src/evse-master/protocol/time.js';
import { advanceAnswering, createLoggedInRig, type Rig, TZ } from './harness.js';

const HOUR_MS = 3_600_000;

async function charging(options: Parameters<typeof createLoggedInRig>[0] = {}, currentA = 10): Promise<Rig> {
  const rig = await createLoggedInRig(options);
  rig.sim.plugIn();
  await rig.client.startCharge({ maxCurrentA: currentA });
  return rig;
}

describe('SimulatedBs20 charging', () => {
  it('starts at 10 A: 0x0007 accepted, state 14, plug 4, output 1, 2300 W, energy only grows', async () => {
    const rig = await charging();
    const { client } = rig;
    expect(client.last('charge_start_response')).toMatchObject({
      lineId: 1,
      reservationResult: 0,
      startResult: 1,
      errorReason: 0,
      maxCurrentA: 10,
      ok: true,
    });
    await advanceAnswering(rig, 60_000);
    const statuses = client.of('status');
    expect(statuses.length).toBeGreaterThanOrEqual(6);
    const last = statuses.at(-1)!;
    expect(last).toMatchObject({
      currentState: 14,
      plugState: 4,
      outputState: 1,
      l1VoltageV: 230,
      l1CurrentA: 10,
    });
    expect(last.powerW).toBe(2300);
    expect(last.sumPowerW).toBeCloseTo(2300, 5);
    const energies = statuses.map((s) => s.energyTotalKwh);
    for (let i = 1; i < energies.length; i++) expect(energies[i]).toBeGreaterThanOrEqual(energies[i - 1]!);
    // 2.3 kW for 60 s ≈ 0.038 kWh on top of the 1234.56 kWh start value, in 0.01 kWh steps.
    expect(Math.abs(energies.at(-1)! - 1234.56 - (2300 * 60) / 3_600_000)).toBeLessThanOrEqual(0.0101);
    expect(energies.at(-1)!).toBeGreaterThan(energies[0]!);
    const status5 = client.last('charging_status');
    expect(status5).toMatchObject({
      currentState: 14,
      chargeId: '2026011512000001',
      userId: 'tester',
      currentLimitA: 10,
    });
    expect(status5.elapsedS).toBeGreaterThanOrEqual(50);
    expect(status5.sessionEnergyKwh).toBeCloseTo(
      status5.energyCounterKwh - status5.energyCounterAtStartKwh,
      5,
    );
    expect(rig.sim.state).toMatchObject({ chargePhase: 'charging', actualCurrentA: 10, powerW: 2300 });
  });

  it('reports Σ V·I over three phases; the power field holds one phase, as on real 3-phase units', async () => {
    const rig = await charging({ phases: 3 });
    await advanceAnswering(rig, 10_000);
    const status = rig.client.last('status');
    expect(status).toMatchObject({
      l1CurrentA: 10,
      l2CurrentA: 10,
      l3CurrentA: 10,
      l3VoltageV: 230,
      powerW: 2300,
    });
    expect(status.sumPowerW).toBeCloseTo(6900, 5);
    expect(rig.client.received.find((r) => r.frame.command === Cmd.Status)!.frame.payload).toHaveLength(33);
    expect(rig.sim.state.powerW).toBe(6900);
    const summed = await charging({ phases: 3, threePhasePowerField: 'sum' });
    await advanceAnswering(summed, 10_000);
    expect(summed.client.last('status').powerW).toBe(6900);
  });

  it('changes the current mid-charge with 0x8107 and refuses values outside 6 … hardware max', async () => {
    const rig = await charging();
    const { client } = rig;
    await client.send(Cmd.SetGetMaxCurrent, encodeMaxCurrentSetting({ action: 1, currentA: 16 }));
    expect(client.last('max_current')).toMatchObject({ action: 1, currentA: 16 });
    await advanceAnswering(rig, 10_000);
    expect(client.last('status')).toMatchObject({ l1CurrentA: 16, powerW: 3680 });
    expect(client.last('charging_status').currentLimitA).toBe(16);
    for (const bad of [5, 33]) {
      await client.send(Cmd.SetGetMaxCurrent, encodeMaxCurrentSetting({ action: 1, currentA: bad }));
      expect(client.last('max_current').currentA).toBe(16);
    }
    await client.send(Cmd.SetGetMaxCurrent, encodeMaxCurrentSetting({ action: 2, currentA: null }));
    expect(client.last('max_current')).toMatchObject({ action: 2, currentA: 16 });
  });

  it('stops with 0x0008 [01 0B 00] → state 15; refuses a new start until another stop (Q10)', async () => {
    const rig = await charging({ maxCurrentA: 20 });
    const { client } = rig;
    await advanceAnswering(rig, 10_000);
    await client.stopCharge();
    const stopFrame = client.received.find((r) => r.frame.command === Cmd.ChargeStopResponse)!;
    expect(stopFrame.frame.payload).toEqual(Uint8Array.of(0x01, 0x0b, 0x00));
    expect(client.last('charge_stop_response').ok).toBe(true);
    expect(rig.sim.state).toMatchObject({ currentState: 15, plugState: 2, outputState: 2 });
    const record = client.last('charge_record');
    expect(record).toMatchObject({ stopReason: 11, chargeId: '2026011512000001', startUserId: 'tester' });
    expect(record.sessionEnergyKwh).toBeCloseTo(
      record.stopEnergyCounterKwh - record.startEnergyCounterKwh,
      5,
    );

    await client.startCharge({ maxCurrentA: 10 });
    expect(client.last('charge_start_response')).toMatchObject({ errorReason: 8, startResult: 0, ok: false });
    await client.stopCharge();
    expect(rig.sim.state.currentState).toBe(13);
    await client.startCharge({ maxCurrentA: 12 });
    expect(client.last('charge_start_response').ok).toBe(true);
    // A start also becomes the configured current.
    await client.send(Cmd.SetGetMaxCurrent, encodeMaxCurrentSetting({ action: 2, currentA: null }));
    expect(client.last('max_current').currentA).toBe(12);
  });

  it('uses the configured refusal reason after a finished session', async () => {
    const rig = await charging({ stopRefusalReason: 2 });
    await rig.client.stopCharge();
    await rig.client.startCharge({ maxCurrentA: 10 });
    expect(rig.client.last('charge_start_response').errorReason).toBe(2);
  });

  it('refuses a start without a car (1), while charging (3) and above the hardware max', async () => {
    const rig = await createLoggedInRig();
    const { client, sim } = rig;
    await client.startCharge({ maxCurrentA: 10 });
    expect(client.last('charge_start_response')).toMatchObject({ errorReason: 1, ok: false });
    sim.plugIn();
    await client.startCharge({ maxCurrentA: 33 });
    expect(client.last('charge_start_response').ok).toBe(false);
    expect(sim.state.chargePhase).toBe('idle');
    await client.startCharge({ maxCurrentA: 32 });
    expect(client.last('charge_start_response').ok).toBe(true);
    await client.startCharge({ maxCurrentA: 10 });
    expect(client.last('charge_start_response')).toMatchObject({ errorReason: 3, ok: false });
    expect(sim.state.session?.currentA).toBe(32);
  });

  it('schedules a start: reservationResult 1, state 20 without a car, charging at the time', async () => {
    const rig = await createLoggedInRig();
    const { client, clock, sim } = rig;
    const dueAt = clock.now() + HOUR_MS / 2;
    await client.startCharge({
      maxCurrentA: 16,
      isReservation: true,
      startTime: emTimeFromUnixMs(dueAt, TZ),
    });
    expect(client.last('charge_start_response')).toMatchObject({
      reservationResult: 1,
      errorReason: 0,
      ok: true,
    });
    expect(sim.state.currentState).toBe(20);
    await client.startCharge({ maxCurrentA: 10 });
    expect(client.last('charge_start_response')).toMatchObject({ errorReason: 20, reservationResult: 6 });
    sim.plugIn();
    await advanceAnswering(rig, HOUR_MS / 4, 10_000);
    expect(client.last('status').currentState).toBe(20);
    await advanceAnswering(rig, HOUR_MS / 4 + 10_000, 10_000);
    expect(client.last('status')).toMatchObject({ currentState: 14, plugState: 4, l1CurrentA: 16 });
    expect(sim.state.session?.startedAtMs).toBe(dueAt);
    const status5 = client.last('charging_status');
    expect(status5.reservationTime.unixMs).toBe(dueAt);
  });

  it('refuses a schedule more than 24 h ahead (3); a due schedule without a car ends with reason 1', async () => {
    const rig = await createLoggedInRig();
    const { client, clock, sim } = rig;
    await client.startCharge({
      maxCurrentA: 16,
      isReservation: true,
      startTime: emTimeFromUnixMs(clock.now() + 25 * HOUR_MS, TZ),
    });
    expect(client.last('charge_start_response')).toMatchObject({ reservationResult: 3, ok: false });
    expect(sim.state.currentState).toBe(12);
    await client.startCharge({
      maxCurrentA: 16,
      isReservation: true,
      startTime: emTimeFromUnixMs(clock.now() + 60_000, TZ),
    });
    await advanceAnswering(rig, 70_000);
    expect(client.last('charge_record').stopReason).toBe(1);
    expect(sim.state.currentState).toBe(12);
  });

  it('ends the session at its energy limit: state 15 and a record with reason 15', async () => {
    const rig = await createLoggedInRig();
    rig.sim.plugIn();
    await rig.client.startCharge({ maxCurrentA: 10, maxEnergyKwh: 1 });
    // 1 kWh at 2.3 kW takes 1565.2 s.
    await advanceAnswering(rig, 1560_000, 10_000);
    expect(rig.sim.state.currentState).toBe(14);
    await advanceAnswering(rig, 20_000);
    expect(rig.sim.state).toMatchObject({ currentState: 15, outputState: 2, plugState: 2 });
    const record = rig.client.last('charge_record');
    expect(record).toMatchObject({ stopReason: 15, param2Raw: 100 });
    expect(record.sessionEnergyKwh).toBeCloseTo(1, 1);
    expect(record.chargedTimeS).toBeGreaterThanOrEqual(1565);
  });

  it('ends the session at its time limit (16)', async () => {
    const rig = await createLoggedInRig();
    rig.sim.plugIn();
    await rig.client.startCharge({ maxCurrentA: 10, maxDurationMinutes: 2 });
    await advanceAnswering(rig, 130_000);
    expect(rig.client.last('charge_record')).toMatchObject({
      stopReason: 16,
      param1Minutes: 2,
      chargedTimeS: 120,
    });
    expect(rig.sim.state.currentState).toBe(15);
  });

  it('stops by itself a few seconds after a start whose param3 is not 0xFFFF', async () => {
    const rig = await createLoggedInRig();
    rig.sim.plugIn();
    await rig.client.startCharge({ maxCurrentA: 10, param3: 0 });
    expect(rig.client.last('charge_start_response').ok).toBe(true);
    await rig.clock.advance(6000);
    expect(rig.sim.state.currentState).toBe(15);
    expect(rig.client.last('charge_record').stopReason).toBe(14);
  });

  it('reaches state 17 when the car is full', async () => {
    const rig = await createLoggedInRig();
    rig.sim.plugIn({ batteryKwh: 10, socPercent: 99 });
    await rig.client.startCharge({ maxCurrentA: 10 });
    // 0.1 kWh at 2.3 kW ≈ 157 s.
    await advanceAnswering(rig, 170_000);
    expect(rig.sim.state).toMatchObject({ currentState: 17, chargePhase: 'full' });
    expect(rig.sim.state.carSocPercent).toBeCloseTo(100, 6);
    expect(rig.client.last('charge_record')).toMatchObject({ stopReason: 13 });
    expect(rig.client.last('charge_record').sessionEnergyKwh).toBeCloseTo(0.1, 2);
  });

  it('ends the session when the car is unplugged while charging (17)', async () => {
    const rig = await charging();
    await advanceAnswering(rig, 20_000);
    rig.sim.unplug();
    await advanceAnswering(rig, 10_000);
    expect(rig.client.last('charge_record').stopReason).toBe(17);
    expect(rig.client.last('status')).toMatchObject({
      currentState: 12,
      plugState: 1,
      outputState: 2,
      l1CurrentA: 0,
    });
  });

  it('shows "started, waiting for EV" (14, plug 2) until a delayed car draws current', async () => {
    const rig = await createLoggedInRig();
    rig.sim.plugIn({ startDelayMs: 15_000 });
    await rig.client.startCharge({ maxCurrentA: 10 });
    await advanceAnswering(rig, 10_000);
    expect(rig.client.last('status')).toMatchObject({
      currentState: 14,
      plugState: 2,
      outputState: 1,
      l1CurrentA: 0,
    });
    const before = rig.sim.state.energyTotalWh;
    await advanceAnswering(rig, 10_000);
    expect(rig.client.last('status')).toMatchObject({ currentState: 14, plugState: 4, l1CurrentA: 10 });
    expect(rig.sim.state.energyTotalWh - before).toBeCloseTo((2300 * 5) / 3600, 6);
  });

  it('sets error bits LSB-first; an error stops charging and shows state 1 until cleared', async () => {
    const rig = await charging();
    rig.sim.raiseError(6);
    await advanceAnswering(rig, 10_000);
    expect(rig.client.last('status')).toMatchObject({ errorBits: 0x40, currentState: 1, outputState: 2 });
    expect(rig.client.last('charge_record').stopReason).toBe(23);
    rig.sim.clearError(6);
    await advanceAnswering(rig, 10_000);
    expect(rig.client.last('status')).toMatchObject({ errorBits: 0, currentState: 15 });
  });

  it('sends the 23-byte status variant with a 16-bit error field', async () => {
    const rig = await createLoggedInRig({ statusPayloadBytes: 23 });
    rig.sim.raiseError(3);
    await rig.clock.advance(10_000);
    const frame = rig.client.received.find((r) => r.frame.command === Cmd.Status)!;
    expect(frame.frame.payload).toHaveLength(23);
    expect(rig.client.last('status')).toMatchObject({ errorWidthBits: 16, errorBits: 0x08 });
  });

  it('replays an un-acked 0x000A record every 3.6 s until 0x800A, or pushes it once', async () => {
    const rig = await charging();
    await rig.client.stopCharge();
    rig.client.clear();
    await rig.clock.advance(3600 * 3);
    expect(rig.client.of('charge_record')).toHaveLength(3);
    await rig.client.send(
      Cmd.UploadChargeRecordAck,
      encodeChargeRecordAck({ lineId: 1, chargeId: '2026011512000001', status: 0 }),
    );
    expect(rig.sim.pendingChargeRecords).toBe(0);
    rig.client.clear();
    await rig.clock.advance(3600 * 3);
    expect(rig.client.of('charge_record')).toHaveLength(0);

    const once = await charging({ recordReplayIntervalMs: 0 });
    await once.client.stopCharge();
    await once.clock.advance(20_000);
    expect(once.client.of('charge_record')).toHaveLength(1);
    const none = await charging({ chargeRecords: false });
    await none.client.stopCharge();
    expect(none.client.of('charge_record')).toHaveLength(0);
  });

  it('pushes records that ended while nobody was logged in right after the next login', async () => {
    const rig = await charging();
    await rig.link.close();
    rig.sim.unplug();
    await rig.link.connect();
    rig.client.clear();
    await rig.client.login();
    expect(rig.client.last('charge_record').stopReason).toBe(17);
  });

  it('never lowers the energy register, even when the clock is set back', async () => {
    const rig = await charging();
    await advanceAnswering(rig, 60_000);
    const before = rig.sim.state.energyTotalWh;
    rig.clock.set(rig.clock.now() - 30_000);
    expect(rig.sim.state.energyTotalWh).toBe(before);
    await advanceAnswering(rig, 10_000);
    expect(rig.sim.state.energyTotalWh).toBeCloseTo(before + (2300 * 10) / 3600, 6);
  });
});
