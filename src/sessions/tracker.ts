/**
 * The session tracker: one ChargerSessions per charger, fed by core Charger state and events, over
 * one SessionStore. It announces sessions (`session_started`, `session_completed`), keeps the "next
 * session" user per charger, and summarises each charger for Home Assistant's state JSON.
 */
import type { Charger } from '../core/charger.js';
import { type Clock, systemClock } from '../core/clock.js';
import { TypedEmitter } from '../core/emitter.js';
import { type Logger, silentLogger } from '../log.js';
import { ChargerSessions, type LiveSession } from './charger-sessions.js';
import type { SessionRecord } from './record.js';
import { DEFAULT_SAMPLE_INTERVAL_MS } from './samples.js';
import { durationSOf, sessionEventData } from './session-json.js';
import type { SessionStore } from './store.js';
import { costSession, type Tariff } from './tariff.js';
import { type ChargerTotals, SessionTotals } from './totals.js';
import { type UserConfig, UserDirectory } from './users.js';

export interface SessionTrackerOptions {
  store: SessionStore;
  chargers: readonly Charger[];
  users?: readonly UserConfig[] | UserDirectory;
  /** null: no costs. */
  tariff?: Tariff | null;
  /** The configured zone: "today", "this month" and tariff windows are local to it. */
  timeZone: string;
  clock?: Clock;
  logger?: Logger;
  /** One kept meter sample per this interval (default 5 min). */
  sampleIntervalMs?: number;
  /** Save the open session at least this often while energy flows (default 60 s). */
  persistIntervalMs?: number;
  /** A stop within this long after noteStopRequested() is `remote` (default 2 min). */
  remoteStopWindowMs?: number;
  /** An RFID swipe this recent names the session that opens (default 10 min). */
  tagWindowMs?: number;
  /** `session_started` waits at most this long for the charger's session id and user (default 30 s). */
  announceDelayMs?: number;
}

export interface SessionEvent {
  type: 'session_started' | 'session_completed';
  chargerId: string;
  at: number;
  session: SessionRecord;
  /** Ready for bridge/event and the HA event entity (snake_case, local times). */
  data: Record<string, unknown>;
}

export type SessionTrackerEvents = {
  session_started: [event: SessionEvent];
  session_completed: [event: SessionEvent];
  /** Something in this charger's summary changed (re-publish its state). */
  changed: [chargerId: string];
};

/** One charger's session counters (the shape the HTTP metrics expect). */
export interface ChargerSessionCounts {
  chargerId: string;
  completedSessions: number;
  completedEnergyKwh: number;
  active: boolean;
  activeEnergyKwh: number | null;
}

/** The shape HA's `ChargerStateExtras` takes for `session` and `totals`. */
export interface SessionSummary {
  session: {
    energyKwh: number | null;
    durationS: number | null;
    startedAt: number | null;
    userId: string | null;
    cost: number | null;
  } | null;
  totals: { energyTodayKwh: number | null; energyMonthKwh: number | null; costMonth: number | null };
}

export class SessionTracker {
  readonly events = new TypedEmitter<SessionTrackerEvents>();
  readonly users: UserDirectory;
  private readonly store: SessionStore;
  private readonly timeZone: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tariff: Tariff | null;
  private readonly perCharger = new Map<string, ChargerSessions>();
  private readonly totals: SessionTotals;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly options: SessionTrackerOptions;
  private started = false;

  constructor(options: SessionTrackerOptions) {
    this.options = options;
    this.store = options.store;
    this.timeZone = options.timeZone;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger()).child({ component: 'sessions' });
    this.tariff = options.tariff ?? null;
    this.users =
      options.users instanceof UserDirectory ? options.users : new UserDirectory(options.users ?? []);
    this.totals = new SessionTotals(options.store, options.timeZone);
  }

  /** Subscribes to every charger and picks up sessions left open by the previous run. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const restored = this.restoredByCharger();
    for (const charger of this.options.chargers)
      this.createFollower(charger, restored.get(charger.id) ?? null);
    for (const follower of this.perCharger.values()) follower.start();
  }

  /**
   * Follows a charger that appeared while running (an OCPP station accepted by policy). The caller
   * also puts it in the `chargers` list it passed, so metrics and requests see it.
   */
  addCharger(charger: Charger): void {
    if (!this.started) return; // start() picks it up from the list
    const open = this.store
      .openSessions()
      .filter((r) => r.chargerId === charger.id)
      .sort((a, b) => a.startedAt - b.startedAt)
      .at(-1);
    this.createFollower(charger, open ?? null).start();
  }

  private createFollower(charger: Charger, restored: SessionRecord | null): ChargerSessions {
    if (this.perCharger.has(charger.id)) throw new Error(`two chargers have the id '${charger.id}'`);
    const follower = new ChargerSessions(
      {
        charger,
        store: this.store,
        users: this.users,
        tariff: this.tariff,
        timeZone: this.timeZone,
        clock: this.clock,
        logger: this.log,
        sampleIntervalMs: this.options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
        persistIntervalMs: this.options.persistIntervalMs ?? 60_000,
        remoteStopWindowMs: this.options.remoteStopWindowMs ?? 120_000,
        tagWindowMs: this.options.tagWindowMs ?? 600_000,
        announceDelayMs: this.options.announceDelayMs ?? 30_000,
        onStarted: (record) => this.announce('session_started', charger.id, record),
        onCompleted: (record) => this.announce('session_completed', charger.id, record),
        onChanged: () => this.events.emit('changed', charger.id),
        track: (job) => this.track(job),
      },
      restored,
    );
    this.perCharger.set(charger.id, follower);
    return follower;
  }

  /** Stops listening; open sessions are saved and resumed by the next start. */
  async stop(): Promise<void> {
    for (const follower of this.perCharger.values()) follower.stop();
    this.perCharger.clear();
    this.started = false;
    await this.idle();
  }

  /** Resolves when every store write asked for so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Who the charger's next session belongs to (the HA `user` select); null clears it. */
  selectUser(chargerId: string, user: string | null): void {
    const follower = this.follower(chargerId);
    if (user !== null && !this.users.has(user)) {
      throw new Error(
        `unknown user ${JSON.stringify(user)}; configured: ${this.users.names().join(', ') || 'none'}`,
      );
    }
    follower.selectUser(user);
    this.events.emit('changed', chargerId);
  }

  selectedUser(chargerId: string): string | null {
    return this.follower(chargerId).selectedUser;
  }

  /** Call before asking a charger to stop, so the session records `remote` as its stop reason. */
  noteStopRequested(chargerId: string): void {
    this.follower(chargerId).noteStopRequested();
  }

  /** Call when a charging rule stops the charge for a while (a profile below 6 A): the session pauses. */
  notePauseRequested(chargerId: string, reason: string): void {
    this.follower(chargerId).notePauseRequested(reason);
  }

  /** The open session of a charger (a copy, samples up to now), or null. */
  currentSession(chargerId: string): SessionRecord | null {
    const live = this.perCharger.get(chargerId)?.live();
    return live ? { ...live.record, samples: live.samples } : null;
  }

  /** Current (else last) session and today's / this month's totals, for HA's state JSON extras. */
  summaryFor(chargerId: string): SessionSummary {
    const now = this.clock.now();
    const live = this.perCharger.get(chargerId)?.live() ?? null;
    const totals: ChargerTotals = this.totals.forCharger(chargerId, now, live);
    const costsOn = this.tariff !== null;
    return {
      session: live ? liveSummary(live, now) : closedSummary(this.store.lastClosed(chargerId)),
      totals: {
        energyTodayKwh: round(totals.energyTodayKwh, 3),
        energyMonthKwh: round(totals.energyMonthKwh, 3),
        costMonth: costsOn ? round(totals.costMonth ?? 0, 2) : null,
      },
    };
  }

  /** Per charger: closed sessions and their energy, and the open session (Prometheus metrics). */
  sessionMetrics(): ChargerSessionCounts[] {
    return this.options.chargers.map((charger) => {
      const closed = this.store.query({ chargerId: charger.id });
      const live = this.perCharger.get(charger.id)?.live() ?? null;
      return {
        chargerId: charger.id,
        completedSessions: closed.length,
        completedEnergyKwh: round(
          closed.reduce((sum, r) => sum + (r.energyKwh ?? 0), 0),
          3,
        ),
        active: live !== null,
        activeEnergyKwh: live?.record.energyKwh ?? null,
      };
    });
  }

  private announce(type: SessionEvent['type'], chargerId: string, session: SessionRecord): void {
    const at = this.clock.now();
    const live = type === 'session_started' ? this.perCharger.get(chargerId)?.live() : null;
    this.events.emit(type, {
      type,
      chargerId,
      at,
      session,
      data: sessionEventData(session, this.timeZone, at, live?.cost ?? null),
    });
  }

  private follower(chargerId: string): ChargerSessions {
    const follower = this.perCharger.get(chargerId);
    if (!follower) throw new Error(`no charger with id ${JSON.stringify(chargerId)} is tracked`);
    return follower;
  }

  private track(job: Promise<unknown>): void {
    const settled = job.catch((err: unknown) =>
      this.log.error({ err: String(err) }, 'session store task failed'),
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
  }

  /** Open sessions from the store, one per known charger; the rest are closed as they were. */
  private restoredByCharger(): Map<string, SessionRecord> {
    const known = new Set(this.options.chargers.map((c) => c.id));
    const byCharger = new Map<string, SessionRecord>();
    const leftovers: SessionRecord[] = [];
    const open = this.store.openSessions().sort((a, b) => a.startedAt - b.startedAt);
    for (const record of open) {
      const earlier = byCharger.get(record.chargerId);
      if (earlier) leftovers.push(earlier);
      if (known.has(record.chargerId)) byCharger.set(record.chargerId, record);
      else leftovers.push(record);
    }
    for (const record of leftovers) {
      this.log.warn(
        { session: record.id, charger: record.chargerId },
        'closing an open session of a charger no longer tracked',
      );
      this.track(this.store.complete(closeAsInterrupted(record, this.tariff, this.timeZone)));
    }
    return byCharger;
  }
}

function closeAsInterrupted(record: SessionRecord, tariff: Tariff | null, timeZone: string): SessionRecord {
  const last = record.samples.at(-1) ?? { at: record.startedAt, meterKwh: record.meterStartKwh ?? 0 };
  return {
    ...record,
    cost: tariff ? costSession(record.samples, tariff, timeZone) : null,
    endedAt: last.at,
    meterStopKwh: last.meterKwh,
    energyKwh: record.meterStartKwh === null ? null : round(last.meterKwh - record.meterStartKwh, 3),
    stopReason: 'interrupted',
  };
}

function liveSummary(live: LiveSession, now: number): SessionSummary['session'] {
  return {
    energyKwh: live.record.energyKwh,
    durationS: durationSOf(live.record, now),
    startedAt: live.record.startedAt,
    userId: live.record.user,
    cost: live.cost === null ? null : round(live.cost, 2),
  };
}

function closedSummary(record: SessionRecord | undefined): SessionSummary['session'] {
  if (!record) return null;
  return {
    energyKwh: record.energyKwh,
    durationS: durationSOf(record),
    startedAt: record.startedAt,
    userId: record.user,
    cost: record.cost?.total ?? null,
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
