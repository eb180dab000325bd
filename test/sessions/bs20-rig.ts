/**
 * The real BS20 stack (EvseSession + Bs20Charger) against the simulated charger, with a session
 * tracker and store in a temporary data folder. A "daemon" can be dropped (as if the process died)
 * and a new one started on the same simulator and folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { Bs20Charger } from '../../src/evse-master/charger.js';
import { EvseSession } from '../../src/evse-master/session.js';
import { createSimulatedTransport, SimulatedBs20 } from '../../src/evse-master/simulator/index.js';
import type { FileProblem } from '../../src/sessions/durable-adapter.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { Tariff } from '../../src/sessions/tariff.js';
import { type SessionEvent, SessionTracker } from '../../src/sessions/tracker.js';
import type { UserConfig } from '../../src/sessions/users.js';

export const TZ = 'Europe/Berlin';
export const MINUTE = 60_000;

/** Night is cheaper on weekdays; 2026-01-15 is a Thursday. */
export const TARIFF: Tariff = {
  currency: 'EUR',
  pricePerKwh: 0.4,
  sessionFee: 0.5,
  windows: [
    {
      name: 'night',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '22:00',
      to: '06:00',
      pricePerKwh: 0.2,
    },
  ],
};

export const USERS: UserConfig[] = [
  { name: 'alice', idTags: ['04A1B2C3'], bs20UserId: 'alice01' },
  { name: 'bob' },
];

/** Berlin wall time in winter (UTC+1) as epoch ms. */
export const berlin = (iso: string) => Date.parse(`${iso}+01:00`);

export interface Daemon {
  session: EvseSession;
  charger: Bs20Charger;
  store: SessionStore;
  tracker: SessionTracker;
  started: SessionEvent[];
  completed: SessionEvent[];
  problems: FileProblem[];
}

export class Bs20World {
  readonly clock: ManualClock;
  readonly sim: SimulatedBs20;
  readonly dataDir: string;
  private readonly daemons: Daemon[] = [];

  constructor(startIso: string, simOptions: { chargeRecords?: boolean } = {}) {
    this.clock = new ManualClock(berlin(startIso));
    this.sim = new SimulatedBs20({
      clock: this.clock,
      timeZone: TZ,
      statusIntervalMs: 30_000,
      chargingStatusIntervalMs: 30_000,
      recordReplayIntervalMs: 0,
      ...simOptions,
    });
    this.dataDir = mkdtempSync(join(tmpdir(), 'cb-sessions-'));
  }

  /** Starts a daemon: store loaded from the data folder, tracker started, charger link opened and logged in. */
  async startDaemon(options: { tariff?: Tariff | null; users?: UserConfig[] } = {}): Promise<Daemon> {
    const problems: FileProblem[] = [];
    const store = await SessionStore.open({
      dataDir: this.dataDir,
      timeZone: TZ,
      clock: this.clock,
      onProblem: (p) => problems.push(p),
    });
    const session = new EvseSession({
      transport: createSimulatedTransport(this.sim),
      pin: '123456',
      clock: this.clock,
      timeZone: TZ,
    });
    const charger = new Bs20Charger({
      id: 'garage',
      name: 'Garage',
      session,
      maxCurrentA: 16,
      clock: this.clock,
      timeZone: TZ,
    });
    const tracker = new SessionTracker({
      store,
      chargers: [charger],
      users: options.users ?? USERS,
      tariff: options.tariff === undefined ? TARIFF : options.tariff,
      timeZone: TZ,
      clock: this.clock,
    });
    const daemon: Daemon = { session, charger, store, tracker, started: [], completed: [], problems };
    tracker.events.on('session_started', (e) => daemon.started.push(e));
    tracker.events.on('session_completed', (e) => daemon.completed.push(e));
    tracker.start();
    await charger.open();
    await this.clock.advance(5_000);
    this.daemons.push(daemon);
    return daemon;
  }

  /** The process dies: the link goes, nothing is stopped cleanly. */
  async crash(daemon: Daemon): Promise<void> {
    // Writes already handed to the disk finish; nothing else is saved or stopped. The old tracker
    // only sees the link go offline, which it ignores anyway.
    await daemon.tracker.idle();
    await daemon.charger.close();
    this.daemons.splice(this.daemons.indexOf(daemon), 1);
  }

  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    for (const d of this.daemons) await d.tracker.idle();
  }

  async close(): Promise<void> {
    for (const d of this.daemons.splice(0)) {
      await d.tracker.stop();
      await d.charger.close();
    }
    this.sim.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
