/**
 * EvseSession.counters(): what the metrics endpoint reports about one BS20 link, driven by the
 * simulated charger's faults (junk bytes, a broken checksum, silence, a dropped link).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChargerCommandError } from '../../src/core/charger.js';
import { ManualClock } from '../../src/core/clock.js';
import { Cmd } from '../../src/evse-master/protocol/commands.js';
import { encodeGetVersion } from '../../src/evse-master/protocol/messages/version.js';
import { EvseSession } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';

const open: Array<{ session: EvseSession; sim: SimulatedBs20; clock: ManualClock }> = [];

async function loggedInRig() {
  const clock = new ManualClock();
  const sim = new SimulatedBs20({ clock, timeZone: 'UTC' });
  const session = new EvseSession({ transport: createSimulatedTransport(sim), pin: '123456', clock });
  open.push({ session, sim, clock });
  session.open();
  await clock.advance(3_000);
  expect(session.loggedIn).toBe(true);
  return { clock, sim, session };
}

afterEach(async () => {
  for (const r of open.splice(0)) {
    await r.session.close();
    r.sim.close();
    expect(r.clock.pendingTimers()).toBe(0);
  }
});

describe('EvseSession counters', () => {
  it('start at zero and count the frames of a clean login', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedBs20({ clock, timeZone: 'UTC' });
    const session = new EvseSession({ transport: createSimulatedTransport(sim), pin: '123456', clock });
    open.push({ session, sim, clock });
    expect(Object.values(session.counters()).every((n) => n === 0)).toBe(true);

    session.open();
    await clock.advance(3_000);
    const c = session.counters();
    expect(c.framesReceived).toBeGreaterThanOrEqual(2); // beacon + login response at least
    expect(c.reconnects).toBe(0);
    expect(c.linkLosses).toBe(0);
    expect(c.badFrames).toBe(0);
    expect(c.discardedBytes).toBe(0);
    expect(c.commandsSent).toBe(0);
  });

  it('counts junk bytes, a frame with a broken checksum, and keeps counting frames after them', async () => {
    const { clock, sim, session } = await loggedInRig();
    const before = session.counters();
    // No 0x06 in the junk, so every byte of it is thrown away and nothing looks like a header.
    sim.sendGarbage(new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55]));
    sim.corruptNextFrame();
    await clock.advance(20_000);
    const after = session.counters();
    expect(after.badFrames - before.badFrames).toBe(1);
    // The junk plus the whole corrupted frame (at least a minimal frame's worth of bytes).
    expect(after.discardedBytes - before.discardedBytes).toBeGreaterThanOrEqual(5 + 20);
    expect(after.framesReceived).toBeGreaterThan(before.framesReceived);
    expect(session.loggedIn).toBe(true);
  });

  it('counts commands sent, timed out, and cut off by a lost link; reconnects after the loss', async () => {
    const { clock, sim, session } = await loggedInRig();

    await session.request(Cmd.GetVersion, encodeGetVersion());
    expect(session.counters().commandsSent).toBe(1);

    sim.goSilent(8_000);
    const silent = session.request(Cmd.GetVersion, encodeGetVersion()).catch((e: unknown) => e);
    await clock.advance(6_000);
    const timedOut = await silent;
    expect(timedOut).toBeInstanceOf(ChargerCommandError);
    expect((timedOut as ChargerCommandError).code).toBe('timeout');
    expect(session.counters()).toMatchObject({ commandsSent: 2, commandsTimedOut: 1, commandsFailed: 0 });
    await clock.advance(5_000);

    const cut = session.request(Cmd.GetVersion, encodeGetVersion()).catch((e: unknown) => e);
    sim.dropLink('out of range');
    const failed = await cut;
    expect((failed as ChargerCommandError).code).toBe('offline');
    expect(session.counters()).toMatchObject({ commandsFailed: 1, linkLosses: 1, reconnects: 0 });

    await clock.advance(10_000);
    expect(session.loggedIn).toBe(true);
    expect(session.counters()).toMatchObject({ reconnects: 1, linkLosses: 1 });
  });
});
