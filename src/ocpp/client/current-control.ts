/**
 * Applies the installed charging profiles to the BS20: the composite limit becomes its max-current
 * setting (whole amps, never above the ceiling); below 6 A the charge pauses and the transaction
 * stays open; when no profile constrains it any more, the setting it had before comes back.
 * Re-evaluated at every change time the profiles announce, on one clock timer.
 */
import { z } from 'zod';
import { type Charger, ChargerCommandError } from '../../core/charger.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { requestStart, switchingGuardOf } from '../../core/switching-guard.js';
import type { Logger } from '../../log.js';
import type { DurableJsonFile } from '../../sessions/durable-adapter.js';
import type { RequestOf, ResponseOf } from '../types.js';
import { ocppTimestamp } from '../types.js';
import {
  type ChargingProfile,
  type ClearCriteria,
  checkProfile,
  clearProfiles,
  hasRoomFor,
  type InstalledProfile,
  installProfile,
  withoutTxProfiles,
} from './charging-profiles.js';
import type { ConfigurationKeys } from './config-keys.js';
import { NOMINAL_VOLTAGE_V } from './meter-values.js';
import {
  chargerSetpoint,
  compositeSchedule,
  type EvalContext,
  limitAt,
  type Setpoint,
} from './smart-charging.js';
import type { TransactionTracker } from './transactions.js';

export const storedProfilesSchema = z.object({
  version: z.literal(1),
  profiles: z.array(z.object({ connectorId: z.number().int(), profile: z.any(), installedAt: z.number() })),
  /** The charger's own setting before a profile took over, to restore afterwards. */
  restoreCurrentA: z.number().nullable(),
});
export type StoredProfiles = z.infer<typeof storedProfilesSchema>;

export interface CurrentControlOptions {
  charger: Charger;
  tracker: TransactionTracker;
  keys: ConfigurationKeys;
  file: DurableJsonFile<StoredProfiles>;
  clock: Clock;
  logger: Logger;
  /** The status may have changed (pause/resume). */
  onChange: () => void;
  /** The charge is paused by a profile (not ended): the session tracker keeps the session open. */
  onPauseRequested?: (reason: string) => void;
}

export class CurrentControl {
  private readonly o: CurrentControlOptions;
  private readonly log: Logger;
  private profiles: InstalledProfile[] = [];
  private restoreCurrentA: number | null = null;
  private setpoint: Setpoint = { kind: 'unconstrained' };
  private timer: TimerHandle | undefined;
  private applying: Promise<void> | null = null;
  private applyAgain = false;
  private stopped = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: CurrentControlOptions) {
    this.o = options;
    this.log = options.logger;
  }

  async load(): Promise<void> {
    const stored = await this.o.file.read();
    this.profiles = (stored?.profiles ?? []) as InstalledProfile[];
    this.restoreCurrentA = stored?.restoreCurrentA ?? null;
  }

  start(): void {
    this.stopped = false;
    const { charger, tracker } = this.o;
    this.unsubscribe.push(
      charger.events.on('event', (event) => {
        if (event.type === 'link_up') this.reevaluate();
      }),
      charger.events.on('state', (next) => this.guardCeiling(next.maxCurrentA)),
      tracker.events.on('opened', () => this.reevaluate()),
      tracker.events.on('closed', () => {
        const kept = withoutTxProfiles(this.profiles);
        if (kept.length !== this.profiles.length) {
          this.profiles = kept;
          this.save();
        }
        this.reevaluate();
      }),
    );
    this.reevaluate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    this.o.clock.clearTimeout(this.timer);
    await this.applying;
  }

  /** The current we offer now: 0 while paused, the setting otherwise. */
  offeredCurrentA(): number | null {
    if (this.o.tracker.paused || this.setpoint.kind === 'pause') return 0;
    return this.o.charger.getState().maxCurrentA;
  }

  /** Whole amps a start may use now, or null when the profiles allow no charging (below 6 A). */
  startCurrentA(): number | null | undefined {
    const setpoint = chargerSetpoint(this.limitNow(), this.o.charger.getCurrentCeilingA());
    if (setpoint.kind === 'pause') return null;
    return setpoint.kind === 'current' ? setpoint.currentA : undefined;
  }

  setProfile(request: RequestOf<'SetChargingProfile'>): ResponseOf<'SetChargingProfile'> {
    const { keys, tracker, clock } = this.o;
    const limits = {
      maxStackLevel: keys.getInt('ChargeProfileMaxStackLevel'),
      maxPeriods: keys.getInt('ChargingScheduleMaxPeriods'),
      maxProfiles: keys.getInt('MaxChargingProfilesInstalled'),
    };
    const profile: ChargingProfile = request.csChargingProfiles;
    const problem = checkProfile(request.connectorId, profile, {
      limits,
      transactionId: tracker.transactionId,
      transactionOpen: tracker.open !== null,
    });
    const entry: InstalledProfile = { connectorId: request.connectorId, profile, installedAt: clock.now() };
    if (problem === null && !hasRoomFor(this.profiles, entry, limits.maxProfiles)) {
      this.log.warn({ id: profile.chargingProfileId }, 'charging profile refused: no room');
      return { status: 'Rejected' };
    }
    if (problem !== null) {
      this.log.warn({ id: profile.chargingProfileId, problem }, 'charging profile refused');
      return { status: 'Rejected' };
    }
    this.profiles = installProfile(this.profiles, entry);
    this.log.info(
      { id: profile.chargingProfileId, purpose: profile.chargingProfilePurpose },
      'charging profile installed',
    );
    this.save();
    this.reevaluate();
    return { status: 'Accepted' };
  }

  clear(criteria: ClearCriteria): ResponseOf<'ClearChargingProfile'> {
    const { kept, removed } = clearProfiles(this.profiles, criteria);
    if (removed === 0) return { status: 'Unknown' };
    this.profiles = kept;
    this.save();
    this.reevaluate();
    return { status: 'Accepted' };
  }

  composite(request: RequestOf<'GetCompositeSchedule'>): ResponseOf<'GetCompositeSchedule'> {
    if (request.connectorId !== 0 && request.connectorId !== 1) return { status: 'Rejected' };
    const now = this.o.clock.now();
    const unit = request.chargingRateUnit ?? 'A';
    const periods = compositeSchedule(
      this.profiles,
      now,
      request.duration,
      this.context(),
      unit,
      this.o.charger.getCurrentCeilingA(),
    );
    return {
      status: 'Accepted',
      connectorId: request.connectorId,
      scheduleStart: ocppTimestamp(now),
      chargingSchedule: {
        duration: request.duration,
        startSchedule: ocppTimestamp(now),
        chargingRateUnit: unit,
        chargingSchedulePeriod: periods,
      },
    };
  }

  /** Compute the limit now, apply it, and wake up at the next change. */
  reevaluate(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const { limitA, nextChangeAt } = limitAt(this.profiles, now, this.context());
    this.setpoint = chargerSetpoint(limitA, this.o.charger.getCurrentCeilingA());
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (nextChangeAt !== null) {
      this.timer = this.o.clock.setTimeout(() => {
        this.timer = undefined;
        this.reevaluate();
      }, nextChangeAt - now);
    }
    this.apply();
  }

  // ---- applying -------------------------------------------------------------------------------

  private limitNow(): number | null {
    return limitAt(this.profiles, this.o.clock.now(), this.context()).limitA;
  }

  private context(): EvalContext {
    const { tracker, charger } = this.o;
    return {
      transactionId: tracker.transactionId,
      relativeStartMs: tracker.open?.startedAt ?? null,
      phases: charger.getInfo().phases,
      voltageV: NOMINAL_VOLTAGE_V,
    };
  }

  /** One application at a time; a change while one runs is applied right after. */
  private apply(): void {
    if (this.applying) {
      this.applyAgain = true;
      return;
    }
    this.applying = (async () => {
      do {
        this.applyAgain = false;
        await this.applyOnce().catch((err: unknown) =>
          this.log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'could not apply the charging limit',
          ),
        );
      } while (this.applyAgain && !this.stopped);
    })().finally(() => {
      this.applying = null;
    });
  }

  private async applyOnce(): Promise<void> {
    const { charger, tracker } = this.o;
    const state = charger.getState();
    if (state.link !== 'online') return;
    const setpoint = this.setpoint;
    if (setpoint.kind !== 'unconstrained' && this.restoreCurrentA === null && state.maxCurrentA !== null) {
      this.restoreCurrentA = state.maxCurrentA;
      this.save();
    }
    if (setpoint.kind === 'pause') {
      const running = state.charging || state.status === 'suspended';
      // A resume still held by the switching rules must not start the charge after all.
      const guard = switchingGuardOf(charger);
      if (guard?.pending().start) await guard.stop();
      if (tracker.open && running && !tracker.paused) {
        this.log.info('charging profile below 6 A: pausing the charge');
        tracker.setPaused(true);
        this.o.onChange();
        this.o.onPauseRequested?.('charging_profile');
        try {
          await charger.stopCharging();
        } catch (err) {
          tracker.setPaused(false);
          throw err;
        }
      }
      return;
    }
    const target = setpoint.kind === 'current' ? setpoint.currentA : this.restoreCurrentA;
    if (setpoint.kind === 'unconstrained' && this.restoreCurrentA !== null) {
      this.restoreCurrentA = null;
      this.save();
    }
    if (target !== null && target !== charger.getState().maxCurrentA) {
      this.log.info({ currentA: target }, 'charging limit from the central system');
      await charger.setMaxCurrent(target);
    }
    // A transaction whose idTag was refused stays stopped whatever the profiles say.
    if (tracker.open && tracker.paused && !tracker.deauthorized) {
      this.log.info('charging allowed again: resuming the charge');
      try {
        const outcome = await requestStart(charger, target !== null ? { currentA: target } : {});
        if (outcome.kind === 'deferred') {
          // Still paused until the charger really starts (SuspendedEVSE is what it does meanwhile).
          this.log.info(
            { until: new Date(outcome.until).toISOString() },
            'resume held: contactor protection',
          );
          void outcome.settled.then((result) => {
            if (result.kind !== 'applied' && result.kind !== 'unneeded') return;
            tracker.setPaused(false);
            this.o.onChange();
          });
        } else {
          tracker.setPaused(false);
        }
      } catch (err) {
        if (!(err instanceof ChargerCommandError)) throw err;
        this.log.warn({ err: err.message }, 'could not resume the charge');
      }
      this.o.onChange();
    }
  }

  /** Someone raised the setting above an active limit (Home Assistant, the app): lower it again. */
  private guardCeiling(currentA: number | null): void {
    const setpoint = this.setpoint;
    if (setpoint.kind !== 'current' || currentA === null || currentA <= setpoint.currentA) return;
    this.apply();
  }

  private save(): void {
    void this.o.file
      .write({ version: 1, profiles: this.profiles, restoreCurrentA: this.restoreCurrentA })
      .catch((err: unknown) =>
        this.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'cannot save charging profiles',
        ),
      );
  }
}
