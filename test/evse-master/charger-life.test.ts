/**
 * The whole life of a BS20 session over the real byte protocol: the real EvseSession and
 * Bs20Charger against the simulated charger, time driven by a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChargerCommandError, type ChargerEvent, type ChargerState } from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { Bs20Charger } from '../../src/evse-master/charger.js';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import type { EvseMessage } from '../../src/evse-master/protocol/message.js';
import { EvseSession } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';

const TZ = 'Europe/Berlin';

interface Rig {
  clock: ManualClock;
  sim: SimulatedBs20;
  session: EvseSession;
  charger: Bs20Charger;
  events: ChargerEvent[];
  clientFrames: (command: number) => EvseMessage[];
}

const rigs: Rig[] = [];

function makeRig(options: { phases?: 1 | 3; pin?: string; simPin?: string; ceilingA?: number } = {}): Rig {
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 18, 0, 0));
  const sim = new SimulatedBs20({
    clock,
    timeZone: TZ,
    phases: options.phases ?? 1,
    pin: options.simPin ?? '123456',
    notificationSize: 20,
  });
  const session = new EvseSession({
    transport: createSimulatedTransport(sim),
    pin: options.pin ?? '123456',
    clock,
    timeZone: TZ,
  });
  const charger = new Bs20Charger({
    id: 'garage',
    name: 'Garage',
    session,
    maxCurrentA: options.ceilingA ?? 16,
    clock,
    timeZone: TZ,
  });
  const events: ChargerEvent[] = [];
  charger.events.on('event', (e) => events.push(e));
  const rig: Rig = {
    clock,
    sim,
    session,
    charger,
    events,
    clientFrames: (command) =>
      sim.receivedFrames.filter((f) => f.frame.command === command && f.pinOk).map((f) => f.message),
  };
  rigs.push(rig);
  return rig;
}

afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.charger.close();
    rig.sim.close();
    expect(rig.clock.pendingTimers()).toBe(0);
  }
});

async function loggedIn(rig: Rig): Promise<ChargerState> {
  await rig.charger.open();
  await rig.clock.advance(5_000);
  return rig.charger.getState();
}

describe('BS20 session life over the byte protocol', () => {
  it('logs in, reads the device, and reports telemetry', async () => {
    const rig = makeRig({ ceilingA: 16 });
    const state = await loggedIn(rig);
    expect(rig.session.phase).toBe('logged_in');
    expect(state.link).toBe('online');
    expect(state.status).toBe('available');
    expect(state.plugged).toBe(false);
    expect(state.energyTotalKwh).toBeCloseTo(1234.56, 2);
    expect(state.phases).toHaveLength(1);
    expect(state.phases[0]?.voltageV).toBeCloseTo(230, 0);
    const info = rig.charger.getInfo();
    expect(info.model).toBe('BS20');
    expect(info.phases).toBe(1);
    expect(info.hardwareMaxCurrentA).toBe(32);
    expect(info.serialNumber).toBe('1122334455667788');
    expect(info.firmwareVersion).not.toBeNull();
    // The user's ceiling wins over the hardware's 32 A, and the charger was lowered to it.
    expect(rig.charger.getCurrentCeilingA()).toBe(16);
    expect(rig.sim.state.configuredCurrentA).toBe(16);
    expect(rig.charger.getState().maxCurrentA).toBe(16);
    // The clock was set after login, in the charger's EM time.
    expect(rig.clientFrames(Cmd.SetGetSystemTime).length).toBeGreaterThanOrEqual(1);
    expect(rig.events.map((e) => e.type)).toContain('link_up');
  });

  it('answers keep-alives so the charger keeps the session for minutes', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    await rig.clock.advance(5 * 60_000);
    expect(rig.sim.loggedIn).toBe(true);
    expect(rig.session.phase).toBe('logged_in');
    expect(rig.clientFrames(Cmd.HeadingResponse).length).toBeGreaterThanOrEqual(25);
    expect(rig.clientFrames(Cmd.StatusAck).length).toBeGreaterThanOrEqual(20);
  });

  it('plug in, start at 10 A, change to 16 A, stop, unplug, drop and reconnect', async () => {
    const rig = makeRig({ ceilingA: 16 });
    await loggedIn(rig);

    rig.sim.plugIn({ demandA: 32 });
    await rig.clock.advance(12_000);
    expect(rig.charger.getState().plugged).toBe(true);
    expect(rig.charger.getState().status).toBe('plugged');

    await rig.charger.startCharging({ currentA: 10, userId: 'alice' });
    const start = rig.clientFrames(Cmd.ChargeStart).at(-1);
    expect(start?.type === 'charge_start' && start.maxCurrentA).toBe(10);
    expect(start?.type === 'charge_start' && start.userId).toBe('alice');
    expect(start?.type === 'charge_start' && start.param3).toBe(0xffff);
    await rig.clock.advance(12_000);
    let state = rig.charger.getState();
    expect(state.status).toBe('charging');
    expect(state.charging).toBe(true);
    expect(state.powerW).toBeCloseTo(2300, -1);
    expect(state.session?.userId).toBe('alice');
    const energyAtTen = state.energyTotalKwh ?? 0;

    await rig.charger.setMaxCurrent(16);
    const set = rig.clientFrames(Cmd.SetGetMaxCurrent).at(-1);
    expect(set?.type === 'max_current_request' && set.currentA).toBe(16);
    await rig.clock.advance(30 * 60_000);
    state = rig.charger.getState();
    expect(state.maxCurrentA).toBe(16);
    expect(state.powerW).toBeCloseTo(3680, -1);
    // Half an hour at 3.68 kW is about 1.84 kWh on the lifetime register.
    expect((state.energyTotalKwh ?? 0) - energyAtTen).toBeGreaterThan(1.7);
    expect((state.energyTotalKwh ?? 0) - energyAtTen).toBeLessThan(2.0);
    expect(state.session?.energyKwh).toBeGreaterThan(1.7);

    await rig.charger.stopCharging();
    await rig.clock.advance(12_000);
    state = rig.charger.getState();
    expect(state.charging).toBe(false);
    expect(state.status).toBe('finished');
    expect(rig.clientFrames(Cmd.ChargeStop)).toHaveLength(1);

    rig.sim.unplug();
    await rig.clock.advance(12_000);
    expect(rig.charger.getState().status).toBe('available');

    const energyBeforeDrop = rig.charger.getState().energyTotalKwh;
    rig.sim.dropLink('out of range');
    await rig.clock.advance(100);
    expect(rig.charger.getState().link).not.toBe('online');
    expect(rig.charger.getState().status).toBe('offline');
    await rig.clock.advance(10_000);
    state = rig.charger.getState();
    expect(state.link).toBe('online');
    // Nothing of what we knew is lost across the reconnect.
    expect(state.energyTotalKwh).toBe(energyBeforeDrop);
    expect(state.maxCurrentA).toBe(16);

    const types = rig.events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'plugged',
        'charging_started',
        'charging_stopped',
        'unplugged',
        'link_lost',
        'link_up',
      ]),
    );
    expect(types.indexOf('plugged')).toBeLessThan(types.indexOf('charging_started'));
    expect(types.indexOf('charging_started')).toBeLessThan(types.indexOf('charging_stopped'));
  });

  it('a 3-phase unit reports three phases and Σ V·I power', async () => {
    const rig = makeRig({ phases: 3, ceilingA: 16 });
    await loggedIn(rig);
    rig.sim.plugIn({ demandA: 16 });
    await rig.clock.advance(11_000);
    await rig.charger.startCharging({ currentA: 16 });
    await rig.clock.advance(11_000);
    const state = rig.charger.getState();
    expect(rig.charger.getInfo().phases).toBe(3);
    expect(state.phases).toHaveLength(3);
    expect(state.powerW).toBeCloseTo(3 * 230 * 16, -1);
  });

  it('a wrong PIN is a clear auth_failed state without hammering the charger', async () => {
    const rig = makeRig({ pin: '654321', simPin: '123456' });
    await rig.charger.open();
    await rig.clock.advance(5_000);
    expect(rig.session.phase).toBe('auth_failed');
    expect(rig.charger.getState().link).toBe('auth_failed');
    expect(rig.events.map((e) => e.type)).toContain('auth_failed');
    const loginAttempts = () =>
      rig.sim.receivedFrames.filter((f) => f.frame.command === Cmd.RequestLogin).length;
    const afterFirst = loginAttempts();
    expect(afterFirst).toBeGreaterThanOrEqual(1);
    // For the next nine minutes nothing is tried again.
    await rig.clock.advance(9 * 60_000);
    expect(loginAttempts()).toBe(afterFirst);
    await expect(rig.charger.startCharging()).rejects.toMatchObject({ code: 'offline' });
    // Then one more try (the user may have fixed the charger's PIN in the app).
    await rig.clock.advance(2 * 60_000);
    expect(loginAttempts()).toBeGreaterThan(afterFirst);
  });

  it('detects a silent charger and reconnects with backoff', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.goSilent(60_000);
    await rig.clock.advance(36_000);
    expect(rig.charger.getState().link).not.toBe('online');
    await rig.clock.advance(30_000);
    expect(rig.charger.getState().link).toBe('online');
  });

  it('resynchronises after garbage on the link', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.sendGarbage(300);
    rig.sim.corruptNextFrame();
    await rig.clock.advance(30_000);
    expect(rig.session.phase).toBe('logged_in');
    rig.sim.plugIn();
    await rig.clock.advance(11_000);
    expect(rig.charger.getState().plugged).toBe(true);
  });

  it('refuses out-of-range and invalid commands without writing a frame', async () => {
    const rig = makeRig({ ceilingA: 16 });
    await loggedIn(rig);
    const before = rig.sim.receivedFrames.length;
    await expect(rig.charger.setMaxCurrent(17)).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(rig.charger.setMaxCurrent(5)).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(rig.charger.setMaxCurrent(10.5)).rejects.toMatchObject({ code: 'invalid' });
    await expect(rig.charger.setMaxCurrent(Number.NaN)).rejects.toBeInstanceOf(ChargerCommandError);
    await expect(rig.charger.startCharging({ currentA: 40 })).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(
      rig.charger.startCharging({ startAt: rig.clock.now() + 25 * 3600_000 }),
    ).rejects.toMatchObject({ code: 'out_of_range' });
    await expect(rig.charger.setName('a name that is far too long')).rejects.toMatchObject({
      code: 'invalid',
    });
    const written = rig.sim.receivedFrames.slice(before).map((f) => f.frame.command);
    expect(written.filter((c) => c !== Cmd.HeadingResponse && c !== Cmd.StatusAck)).toEqual([]);
  });

  it('a start without a car is refused with the charger’s reason', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    await expect(rig.charger.startCharging({ currentA: 10 })).rejects.toMatchObject({ code: 'not_plugged' });
  });

  it('restarts after a finished session by sending a stop first', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.plugIn({ batteryKwh: 1, socPercent: 99 });
    await rig.clock.advance(11_000);
    await rig.charger.startCharging({ currentA: 16 });
    await rig.clock.advance(20 * 60_000);
    expect(rig.charger.getState().status).toBe('finished');
    const stopsBefore = rig.clientFrames(Cmd.ChargeStop).length;
    rig.sim.setCarDemand(16);
    await rig.charger.startCharging({ currentA: 12 }).catch(() => undefined);
    expect(rig.clientFrames(Cmd.ChargeStop).length).toBe(stopsBefore + 1);
  });

  it('a scheduled start is shown as scheduled', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.plugIn();
    await rig.clock.advance(11_000);
    const startAt = rig.clock.now() + 2 * 3600_000;
    await rig.charger.startCharging({ currentA: 10, startAt });
    await rig.clock.advance(11_000);
    const state = rig.charger.getState();
    expect(state.status).toBe('scheduled');
    expect(Math.abs((state.scheduledStartAt ?? 0) - startAt)).toBeLessThan(60_000);
    await rig.clock.advance(2 * 3600_000);
    expect(rig.charger.getState().status).toBe('charging');
  });

  it('a command the charger never answers fails cleanly with a timeout', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.goSilent(8_000);
    const pending = rig.charger.setMaxCurrent(10);
    const outcome = pending.then(
      () => 'resolved',
      (err: unknown) => (err instanceof ChargerCommandError ? err.code : 'other'),
    );
    await rig.clock.advance(6_000);
    expect(await outcome).toBe('timeout');
  });
});

describe('BS20 session attribution', () => {
  it('the idTag given at start belongs to the session the charger then reports', async () => {
    const rig = makeRig();
    await loggedIn(rig);
    rig.sim.plugIn();
    await rig.clock.advance(11_000);
    await rig.charger.startCharging({ currentA: 10, userId: 'bob', idTag: '04A1B2C3' });
    await rig.clock.advance(12_000);
    const session = rig.charger.getState().session;
    expect(session?.chargerSessionId).toBeTruthy();
    expect(session?.idTag).toBe('04A1B2C3');
    expect(session?.userId).toBe('bob');
  });
});
