/**
 * Sessions end to end through the simulated BS20: the real EvseSession and Bs20Charger speak bytes
 * to the simulator, the tracker follows the core Charger, the store writes to a temporary folder.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChargerStateExtras, chargerStateToJson } from '../../src/homeassistant/state.js';
import { SessionStore } from '../../src/sessions/store.js';
import { STANDARD_WINDOW } from '../../src/sessions/tariff.js';
import { Bs20World, berlin, MINUTE, TARIFF, TZ } from './bs20-rig.js';

let world: Bs20World;

afterEach(async () => {
  await world.close();
  expect(world.clock.pendingTimers()).toBe(0);
});

const register = () => world.sim.state.energyTotalKwh;
const round2 = (v: number) => Math.round(v * 100) / 100;

describe('session tracking with the simulated BS20', () => {
  it('records one session across a tariff boundary with energy from the register and a split cost', async () => {
    world = new Bs20World('2026-01-15T21:25:00');
    const d = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });
    await world.advance(MINUTE);
    expect(d.started).toHaveLength(0); // plugged, not charging: no session yet

    const meterBefore = register();
    await d.charger.startCharging({ currentA: 16, userId: 'alice01' });
    await world.advance(MINUTE);
    expect(d.started).toHaveLength(1);
    expect(d.started[0]?.data).toMatchObject({ user: 'alice', energy_kwh: expect.any(Number) });

    await world.advance(60 * MINUTE); // 21:27 → 22:27 at 16 A × 230 V
    d.tracker.noteStopRequested('garage');
    await d.charger.stopCharging();
    await world.advance(MINUTE);
    const meterAfter = register();

    expect(d.completed).toHaveLength(1);
    const s = d.completed[0]!.session;
    expect(s.meterStartKwh).toBeCloseTo(meterBefore, 2);
    expect(s.meterStopKwh).toBeCloseTo(meterAfter, 2);
    expect(s.energyKwh).toBeCloseTo(meterAfter - meterBefore, 3);
    expect(s.energyKwh).toBeGreaterThan(3.6);
    const startFrame = world.sim.receivedFrames.map((f) => f.message).find((m) => m.type === 'charge_start');
    expect(s.chargerSessionId).toBe(
      startFrame?.type === 'charge_start' ? startFrame.chargeId : 'no start frame',
    );
    expect(s.user).toBe('alice');
    expect(s.userSource).toBe('charger');
    expect(s.stopReason).toBe('remote');
    expect(s.maxCurrentA).toBeCloseTo(16, 1);
    expect(s.peakPowerW).toBeCloseTo(3680, -1);
    // Bounded samples: one per 5 minutes plus both sides of 22:00.
    expect(s.samples.length).toBeLessThanOrEqual(18);
    expect(s.samples[0]).toEqual({ at: s.startedAt, meterKwh: s.meterStartKwh });
    expect(s.samples.at(-1)).toEqual({ at: s.endedAt, meterKwh: s.meterStopKwh });

    // About 33 minutes before 22:00 and 27 after, at 3.68 kW.
    const cost = s.cost!;
    const night = cost.byWindow.find((w) => w.window === 'night')!;
    const standard = cost.byWindow.find((w) => w.window === STANDARD_WINDOW)!;
    const kwhPerMinute = 3.68 / 60;
    const startedMin = (berlin('2026-01-15T22:00:00') - s.startedAt) / MINUTE;
    expect(standard.energyKwh).toBeCloseTo(startedMin * kwhPerMinute, 1);
    expect(night.energyKwh + standard.energyKwh).toBeCloseTo(s.energyKwh!, 3);
    expect(cost.total).toBe(round2(0.5 + night.energyKwh * 0.2 + standard.energyKwh * 0.4));
    expect(d.completed[0]?.data).toMatchObject({
      session_id: s.id,
      user: 'alice',
      energy_kwh: s.energyKwh,
      cost: cost.total,
      currency: 'EUR',
      duration_s: Math.round((s.endedAt! - s.startedAt) / 1000),
    });

    // On disk: a fresh store reads exactly this session back, and nothing is left open.
    const reread = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
    expect(reread.query()).toEqual([s]);
    expect(reread.openSessions()).toEqual([]);
  });

  it('continues a session across a daemon restart without counting anything twice', async () => {
    world = new Bs20World('2026-01-15T21:30:00');
    const first = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });
    const meterBefore = register();
    await first.charger.startCharging({ currentA: 16 });
    await world.advance(20 * MINUTE);
    expect(first.store.openSessions()).toHaveLength(1);
    const openId = first.started[0]?.session.id;
    await world.crash(first);

    await world.advance(3 * MINUTE); // the car keeps charging while no daemon runs
    const second = await world.startDaemon();
    expect(second.started).toHaveLength(0); // resumed, not a new session
    expect(second.tracker.currentSession('garage')?.id).toBe(openId);
    await world.advance(40 * MINUTE);
    await second.charger.stopCharging();
    await world.advance(MINUTE);

    expect(second.completed).toHaveLength(1);
    const s = second.completed[0]!.session;
    expect(s.id).toBe(openId);
    expect(s.energyKwh).toBeCloseTo(register() - meterBefore, 3);
    expect(s.stopReason).toBe('finished');
    const windows = s.cost!.byWindow;
    expect(windows.reduce((a, w) => a + w.energyKwh, 0)).toBeCloseTo(s.energyKwh!, 3);
    expect(windows.find((w) => w.window === 'night')?.energyKwh).toBeGreaterThan(1.5);
    const stored = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
    expect(stored.query().map((r) => r.id)).toEqual([openId]);
    expect(stored.openSessions()).toEqual([]);
  });

  // A session that ended while the daemon was down: restart-reconcile.test.ts.

  it('keeps one session through a BLE drop and an out-of-range spell mid-charge', async () => {
    world = new Bs20World('2026-01-15T10:00:00');
    const d = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });
    const meterBefore = register();
    await d.charger.startCharging({ currentA: 16 });
    await world.advance(10 * MINUTE);

    world.sim.dropLink('interference');
    await world.advance(30_000);
    world.sim.setUnreachable(true);
    await world.advance(8 * MINUTE);
    expect(d.charger.getState().link).not.toBe('online');
    world.sim.setUnreachable(false);
    await world.advance(3 * MINUTE);
    expect(d.charger.getState().link).toBe('online');
    await world.advance(10 * MINUTE);
    world.sim.unplug();
    await world.advance(MINUTE);

    expect(d.started).toHaveLength(1);
    expect(d.completed).toHaveLength(1);
    const s = d.completed[0]!.session;
    expect(s.stopReason).toBe('unplugged');
    expect(s.energyKwh).toBeCloseTo(register() - meterBefore, 3);
    // ~31.5 minutes of charging at 3.68 kW, including the time the link was down.
    expect(s.energyKwh).toBeGreaterThan(1.8);
  });

  it('attributes sessions: selected user, the BS20 user field, and nobody', async () => {
    world = new Bs20World('2026-01-15T09:00:00');
    const d = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });

    d.tracker.selectUser('garage', 'bob');
    await d.charger.startCharging({ currentA: 10 });
    await world.advance(5 * MINUTE);
    await d.charger.stopCharging();
    await world.advance(MINUTE);

    // The BS20 user field names alice (her bs20_user_id): it wins over the selection.
    await d.charger.startCharging({ currentA: 10, userId: 'alice01' });
    await world.advance(5 * MINUTE);
    await d.charger.stopCharging();
    await world.advance(MINUTE);

    d.tracker.selectUser('garage', null);
    await d.charger.startCharging({ currentA: 10 });
    await world.advance(5 * MINUTE);
    await d.charger.stopCharging();
    await world.advance(MINUTE);

    expect(() => d.tracker.selectUser('garage', 'mallory')).toThrow(/unknown user "mallory"/);
    expect(d.completed.map((e) => [e.session.user, e.session.userSource])).toEqual([
      ['bob', 'selected'],
      ['alice', 'charger'],
      [null, null],
    ]);
    // Three sessions, three different charger session ids, none merged.
    expect(new Set(d.completed.map((e) => e.session.chargerSessionId)).size).toBe(3);
    expect(d.store.query({ user: 'bob' })).toHaveLength(1);
  });

  it('summarises the current and last session and splits today at midnight, in the HA state shape', async () => {
    world = new Bs20World('2026-01-15T23:30:00');
    const d = await world.startDaemon({ tariff: null });
    expect(d.tracker.summaryFor('garage')).toEqual({
      session: null,
      totals: { energyTodayKwh: 0, energyMonthKwh: 0, costMonth: null },
    });
    world.sim.plugIn({ demandA: 16 });
    await d.charger.startCharging({ currentA: 16 });
    await world.advance(60 * MINUTE); // 23:30 → 00:30

    const live = d.tracker.summaryFor('garage');
    const energySoFar = live.session!.energyKwh!;
    expect(energySoFar).toBeGreaterThan(3.5);
    expect(live.session!.durationS).toBeGreaterThanOrEqual(3590);
    // Half of it was before midnight: today (the 16th) has about half.
    expect(live.totals.energyTodayKwh!).toBeCloseTo(energySoFar / 2, 1);
    expect(live.totals.energyMonthKwh).toBeCloseTo(energySoFar, 2);

    await d.charger.stopCharging();
    await world.advance(MINUTE);
    const after = d.tracker.summaryFor('garage');
    expect(after.session?.energyKwh).toBe(d.completed[0]?.session.energyKwh);

    // The extras feed Home Assistant's state JSON as they are.
    const extras: ChargerStateExtras = { ...after };
    const json = chargerStateToJson(d.charger.getState(), extras);
    expect(json.session_energy_kwh).toBe(Math.round(after.session!.energyKwh! * 1000) / 1000);
    expect(json.energy_today_kwh).toBeCloseTo(after.totals.energyTodayKwh!, 3);
    expect(json.cost_month).toBeNull();
  });

  it('survives a corrupt store: the bad file is kept aside, the last good copy and the journal are used, tracking goes on', async () => {
    world = new Bs20World('2026-01-15T08:00:00');
    const first = await world.startDaemon();
    world.sim.plugIn({ demandA: 16 });
    for (let i = 0; i < 2; i++) {
      await first.charger.startCharging({ currentA: 10 });
      await world.advance(10 * MINUTE);
      await first.charger.stopCharging();
      await world.advance(MINUTE);
    }
    const [one, two] = first.completed.map((e) => e.session);
    await world.crash(first);
    const sessionsDir = join(world.dataDir, 'sessions');
    const file = join(sessionsDir, '2026-01.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 200)); // a torn write from a bad SD card

    const second = await world.startDaemon();
    expect(second.problems).toHaveLength(1);
    expect(second.problems[0]).toMatchObject({ kind: 'corrupt', recoveredFrom: `${file}.bak` });
    // The .bak is one write behind; the month's journal brings back the newest session too.
    expect(second.store.query().map((r) => r.id)).toEqual([one?.id, two?.id]);
    const aside = readdirSync(sessionsDir).filter((f) => f.startsWith('2026-01.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(second.problems[0]?.movedTo).toBe(join(sessionsDir, aside[0]!));

    await second.charger.startCharging({ currentA: 10 });
    await world.advance(10 * MINUTE);
    await second.charger.stopCharging();
    await world.advance(MINUTE);
    const reread = await SessionStore.open({ dataDir: world.dataDir, timeZone: TZ, readOnly: true });
    expect(reread.query()).toHaveLength(3);
    expect(reread.problems).toEqual([]);
    expect(TARIFF.currency).toBe('EUR');
  });
});
