/**
 * What only an OCPP-style charger does (the OCPP station adapter is not written yet, so a fake core
 * Charger stands in): idTags, transactions authorised before the car draws, charger stop reasons,
 * a transaction replaced while the link was down, and joining a transaction already running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { SessionStore } from '../../src/sessions/store.js';
import { type SessionEvent, SessionTracker } from '../../src/sessions/tracker.js';
import { berlin, MINUTE, TARIFF, TZ, USERS } from './bs20-rig.js';
import { FakeOcppCharger } from './fake-charger.js';

let dir: string;
let clock: ManualClock;
let charger: FakeOcppCharger;
let tracker: SessionTracker;
let store: SessionStore;
let started: SessionEvent[];
let completed: SessionEvent[];

async function boot(): Promise<void> {
  store = await SessionStore.open({ dataDir: dir, timeZone: TZ, clock });
  tracker = new SessionTracker({
    store,
    chargers: [charger],
    users: USERS,
    tariff: TARIFF,
    timeZone: TZ,
    clock,
  });
  started = [];
  completed = [];
  tracker.events.on('session_started', (e) => started.push(e));
  tracker.events.on('session_completed', (e) => completed.push(e));
  tracker.start();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-ocpp-sessions-'));
  clock = new ManualClock(berlin('2026-01-15T12:00:00'));
  charger = new FakeOcppCharger('station', clock);
  await boot();
});

afterEach(async () => {
  await tracker.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function step(ms: number): Promise<void> {
  await clock.advance(ms);
  await tracker.idle();
}

/** The station charges at `kw` for `minutes`, one reading a minute. */
async function charge(kw: number, minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    await step(MINUTE);
    const meter = (charger.getState().energyTotalKwh ?? 0) + kw / 60;
    const session = charger.getState().session;
    charger.set({
      energyTotalKwh: meter,
      powerW: kw * 1000,
      session: session ? { ...session, energyKwh: (session.energyKwh ?? 0) + kw / 60 } : null,
    });
  }
}

describe('session tracking with an OCPP-style charger', () => {
  it('attributes a known idTag to its user and records an unknown one as unknown', async () => {
    charger.online(500);
    charger.set({
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({ chargerSessionId: '17', idTag: '04a1b2c3 ', energyKwh: 0 }),
    });
    await charge(11, 30);
    charger.set(
      { charging: false, plugged: false, status: 'available', powerW: 0 },
      { stopReason: 'EVDisconnected' },
    );
    await step(0);

    charger.set({
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({ chargerSessionId: '18', idTag: 'DEADBEEF', energyKwh: 0 }),
    });
    await charge(11, 10);
    charger.set({ charging: false, status: 'finished' }, { stopReason: 'Local' });
    await step(0);

    expect(
      completed.map((e) => e.session).map((s) => [s.user, s.userSource, s.idTag, s.idTagKnown, s.stopReason]),
    ).toEqual([
      ['alice', 'id_tag', '04a1b2c3 ', true, 'unplugged'],
      [null, null, 'DEADBEEF', false, 'local'],
    ]);
    expect(completed[0]?.session.energyKwh).toBeCloseTo(5.5, 3);
    expect(completed[0]?.session.chargerSessionId).toBe('17');
    expect(tracker.sessionMetrics()).toEqual([
      {
        chargerId: 'station',
        completedSessions: 2,
        completedEnergyKwh: Math.round(((11 * 40) / 60) * 1000) / 1000,
        active: false,
        activeEnergyKwh: null,
      },
    ]);
    // The tag wins over a selection made in Home Assistant, and session_started already knew it.
    expect(started[1]?.data).toMatchObject({ id_tag: 'DEADBEEF', id_tag_known: false, user: null });
  });

  it('opens when a transaction is authorised before the car draws, and keeps it while suspended', async () => {
    charger.online(100);
    charger.set({ plugged: true, status: 'plugged' });
    await step(MINUTE);
    expect(started).toHaveLength(0);
    charger.set({
      status: 'suspended',
      session: charger.session({ chargerSessionId: 'tx-1', idTag: '04A1B2C3' }),
    });
    await step(0);
    expect(started).toHaveLength(1);
    expect(started[0]?.data).toMatchObject({ user: 'alice', energy_kwh: 0 });

    charger.set({ charging: true, status: 'charging' });
    await charge(7, 20);
    const pausedAt = clock.now();
    charger.set({ charging: false, status: 'suspended', powerW: 0 }); // the car pauses
    await step(10 * MINUTE);
    charger.set({ charging: true, status: 'charging' });
    await charge(7, 20);
    charger.set({ charging: false, status: 'finished', powerW: 0 });
    await step(0);

    expect(started).toHaveLength(1);
    expect(completed).toHaveLength(1);
    const s = completed[0]!.session;
    expect(s.energyKwh).toBeCloseTo((2 * 20 * 7) / 60, 3);
    expect(s.stopReason).toBe('finished');
    expect(s.pauses).toEqual([{ from: pausedAt, to: pausedAt + 10 * MINUTE, reason: 'suspended' }]);
    expect(s.peakPowerW).toBe(7000);
  });

  it('records `remote` for a stop asked through chargebridge', async () => {
    charger.online(100);
    charger.set({ plugged: true, charging: true, status: 'charging' });
    await charge(7, 5);
    tracker.noteStopRequested('station');
    await step(5_000);
    charger.set({ charging: false, status: 'plugged' });
    await step(0);
    expect(completed[0]?.session.stopReason).toBe('remote');
  });

  it('splits at the register when the station moved to another transaction while the link was down', async () => {
    charger.online(1000);
    charger.set({
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({ chargerSessionId: 'A', energyKwh: 0 }),
    });
    await charge(6, 30); // A: 3 kWh seen
    charger.set({ link: 'offline', status: 'offline' });
    await step(60 * MINUTE);
    // Back online: A ended and B has been running for 2 kWh. The register moved 5 kWh in total.
    charger.set({
      link: 'online',
      status: 'charging',
      energyTotalKwh: 1008,
      session: charger.session({ chargerSessionId: 'B', energyKwh: 2, startedAt: clock.now() - 20 * MINUTE }),
    });
    await step(0);

    expect(completed).toHaveLength(1);
    const a = completed[0]!.session;
    expect(a.chargerSessionId).toBe('A');
    expect(a.stopReason).toBe('replaced');
    expect(a.meterStopKwh).toBeCloseTo(1006, 6);
    const b = tracker.currentSession('station')!;
    expect(b.chargerSessionId).toBe('B');
    expect(b.meterStartKwh).toBeCloseTo(1006, 6);
    expect(b.startedAt).toBe(clock.now() - 20 * MINUTE);
    expect(a.endedAt).toBeLessThanOrEqual(b.startedAt);
  });

  it('after a restart, a charge the station names only later is not given to the session open before (it ended while we were down)', async () => {
    charger.online(1000);
    charger.set({
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({ chargerSessionId: 'A', energyKwh: 0 }),
    });
    await charge(6, 30); // A: 3 kWh, saved open
    await tracker.stop();
    const aEnd = clock.now();
    await step(10 * MINUTE);
    // While down: A ended, B began 2 minutes ago. The station shows a running charge, unnamed at first.
    const bStart = clock.now() - 2 * MINUTE;
    charger.set({ status: 'suspended', charging: false, energyTotalKwh: 1003.2, session: null });
    await boot();
    await step(1_000);
    charger.set({ status: 'charging', charging: true, powerW: 6000, energyTotalKwh: 1003.3 });
    await step(1_000);
    charger.set({
      energyTotalKwh: 1003.4,
      session: charger.session({ chargerSessionId: 'B', energyKwh: 0.4, startedAt: bStart }),
    });
    await step(0);

    expect(completed).toHaveLength(1);
    const a = completed[0]!.session;
    expect(a.chargerSessionId).toBe('A');
    expect(a.meterStopKwh).toBeCloseTo(1003, 6);
    expect(a.endedAt).toBe(aEnd);
    const b = tracker.currentSession('station')!;
    expect(b.chargerSessionId).toBe('B');
    expect(b.startedAt).toBe(bStart);
    expect(b.meterStartKwh).toBeCloseTo(1003, 6);
  });

  it('after a restart, a session saved before the station named it does not take the name of a later charge', async () => {
    charger.online(1000);
    charger.set({ plugged: true, charging: true, status: 'charging', session: null });
    await charge(6, 5); // 0.5 kWh, never named
    await tracker.stop();
    await step(10 * MINUTE);
    const bStart = clock.now() - 2 * MINUTE;
    charger.set({ energyTotalKwh: 1000.7, session: null });
    await boot();
    await step(1_000);
    charger.set({
      energyTotalKwh: 1000.8,
      session: charger.session({ chargerSessionId: 'B', energyKwh: 0.2, startedAt: bStart }),
    });
    await step(0);

    expect(completed).toHaveLength(1);
    expect(completed[0]!.session.chargerSessionId).toBeNull();
    expect(completed[0]!.session.meterStopKwh).toBeLessThanOrEqual(1000.6);
    const b = tracker.currentSession('station')!;
    expect(b.chargerSessionId).toBe('B');
    expect(b.startedAt).toBe(bStart);
    expect(b.meterStartKwh).toBeCloseTo(1000.6, 6);
  });

  it('joins a transaction already running at start-up with the energy the station counted', async () => {
    await tracker.stop();
    charger.online(2000, {
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({
        chargerSessionId: '99',
        energyKwh: 4,
        startedAt: clock.now() - 40 * MINUTE,
      }),
    });
    await boot();
    expect(started).toHaveLength(1);
    const s = tracker.currentSession('station')!;
    expect(s.meterStartKwh).toBe(1996);
    expect(s.startedAt).toBe(clock.now() - 40 * MINUTE);
    expect(s.energyKwh).toBe(4);
  });

  it('joins a charge running at start-up before its first 0.01 kWh from where the station says it began', async () => {
    await tracker.stop();
    const begun = clock.now() - 2_000;
    charger.online(2000, {
      plugged: true,
      charging: true,
      status: 'charging',
      session: charger.session({ chargerSessionId: '98', energyKwh: 0, startedAt: begun, durationS: 2 }),
    });
    await boot();
    expect(tracker.currentSession('station')!.startedAt).toBe(begun);
    // A clock far off is not believed.
    await tracker.stop();
    await step(MINUTE);
    charger.set({
      session: charger.session({
        chargerSessionId: '99',
        energyKwh: 0,
        startedAt: begun - 86_400_000,
        durationS: 1,
      }),
    });
    await boot();
    expect(tracker.currentSession('station')!.startedAt).toBe(clock.now());
  });

  it('names the session after an RFID swipe just before it starts', async () => {
    charger.online(100, { plugged: true, status: 'plugged' });
    await step(MINUTE);
    charger.set({}, { events: [{ type: 'rfid', at: clock.now(), data: { idTag: '04A1B2C3' } }] });
    await step(MINUTE);
    charger.set({ charging: true, status: 'charging' });
    await charge(7, 5);
    expect(tracker.currentSession('station')?.user).toBe('alice');
    expect(tracker.currentSession('station')?.userSource).toBe('id_tag');
  });
});
