/**
 * A session that ended while the daemon was down (the car unplugged in between) is closed from the
 * charger's own figures at the next start: its charge record (0x000A), else its lifetime register.
 * Real EvseSession + Bs20Charger against the simulated BS20, on a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/sessions/store.js';
import { Bs20World, MINUTE, TZ } from './bs20-rig.js';

let world: Bs20World;

afterEach(async () => {
  await world.close();
  expect(world.clock.pendingTimers()).toBe(0);
});

const register = () => world.sim.state.energyTotalKwh;

async function lastSavedSample() {
  const store = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
  return store.openSessions()[0]!.samples.at(-1)!;
}

/** Charges 10 min with a daemon, kills it, charges 5 more min unwatched, unplugs, restarts. */
async function unplugWhileDown() {
  const first = await world.startDaemon();
  world.sim.plugIn({ demandA: 16 });
  const meterStart = register();
  await first.charger.startCharging({ currentA: 16 });
  await world.advance(10 * MINUTE);
  await world.crash(first);
  const lastSaved = await lastSavedSample();
  await world.advance(5 * MINUTE);
  world.sim.unplug();
  const unpluggedAt = world.clock.now();
  const meterAtUnplug = register();
  await world.advance(MINUTE);
  const second = await world.startDaemon();
  return { second, meterStart, meterAtUnplug, unpluggedAt, lastSaved };
}

describe('closing a session that ended while the daemon was down', () => {
  it("takes the energy and stop time from the charger's charge record", async () => {
    world = new Bs20World('2026-01-15T12:00:00');
    const { second, meterStart, meterAtUnplug, unpluggedAt, lastSaved } = await unplugWhileDown();
    await world.advance(MINUTE);

    expect(second.started).toHaveLength(0);
    expect(second.completed).toHaveLength(1);
    const s = second.completed[0]!.session;
    // What the charger delivered, not what was saved before the kill (5 minutes ≈ 0.3 kWh less).
    expect(meterAtUnplug - lastSaved.meterKwh).toBeGreaterThan(0.25);
    expect(s.meterStopKwh).toBeCloseTo(meterAtUnplug, 2);
    expect(s.energyKwh).toBeCloseTo(meterAtUnplug - meterStart, 2);
    // The charger's clock counts whole seconds.
    expect(Math.abs(s.endedAt! - unpluggedAt)).toBeLessThan(2_000);
    expect(s.stopReason).toBe('unplugged');
    expect(second.store.openSessions()).toEqual([]);
  });

  it('without a record, and a charger that names no session, keeps the last saved reading (it never guesses)', async () => {
    world = new Bs20World('2026-01-15T12:00:00', { chargeRecords: false });
    const { second, lastSaved } = await unplugWhileDown();
    await world.advance(MINUTE);

    expect(second.completed).toHaveLength(1);
    const s = second.completed[0]!.session;
    // Another car could have charged while nobody watched: the register proves nothing.
    expect(s.meterStopKwh).toBe(lastSaved.meterKwh);
    expect(s.endedAt).toBe(lastSaved.at);
    expect(s.stopReason).toBe('interrupted');
  });
});

describe('notes on a running session', () => {
  it('survive the saves while it runs and reach the completed session', async () => {
    world = new Bs20World('2026-01-15T12:00:00');
    const d = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });
    await d.charger.startCharging({ currentA: 16 });
    await world.advance(MINUTE);
    const id = d.tracker.currentSession('garage')!.id;
    await d.store.addNote(id, 'guest car', world.clock.now());
    await world.advance(10 * MINUTE); // several saves of the open session

    const onDisk = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
    expect(onDisk.get(id)?.notes.map((n) => n.text)).toEqual(['guest car']);
    world.sim.unplug();
    await world.advance(MINUTE);

    expect(d.completed[0]?.session.notes.map((n) => n.text)).toEqual(['guest car']);
    const reread = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
    expect(reread.get(id)?.notes.map((n) => n.text)).toEqual(['guest car']);
  });
});
