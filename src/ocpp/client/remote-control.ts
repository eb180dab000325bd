/**
 * What the central system may ask the BS20 to do: remote start/stop, availability, reset, unlock,
 * and the reaction to an idTag it refused. Answers are decided at once; the work (BLE commands)
 * runs after the answer is on its way, as OCPP wants (the .conf before its consequences).
 */
import { type Charger, ChargerCommandError } from '../../core/charger.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { requestStart } from '../../core/switching-guard.js';
import type { Logger } from '../../log.js';
import type { ChargingProfile, IdTagInfo, RequestOf, ResponseOf, StopReason } from '../types.js';
import type { ConfigurationKeys } from './config-keys.js';
import type { CurrentControl } from './current-control.js';
import type { TransactionTracker } from './transactions.js';

export interface RemoteControlOptions {
  charger: Charger;
  tracker: TransactionTracker;
  current: CurrentControl;
  keys: ConfigurationKeys;
  clock: Clock;
  logger: Logger;
  /** Authorize an idTag upstream (AuthorizeRemoteTxRequests); null when unreachable. */
  authorize: (idTag: string) => Promise<IdTagInfo | null>;
  /** Persist the keys file (availability lives there). */
  saveSettings: () => void;
  /** Reset: boot again on a fresh connection. */
  reboot: () => void;
  /** The transaction is ended on purpose: the charger's session ends with it (not a pause). */
  onStopRequested?: () => void;
  /** The energy stops but the transaction stays open (a refused idTag): a pause for the session. */
  onPauseRequested?: (reason: string) => void;
  /** Availability or a pending start changed the connector status. */
  onChange: () => void;
  /** Runs `work` after the current answer has been sent. */
  afterReply: (work: () => Promise<void> | void) => void;
}

export class RemoteControl {
  private readonly o: RemoteControlOptions;
  private readonly log: Logger;
  private waitTimer: TimerHandle | undefined;
  private offPlugged: (() => void) | null = null;
  private pendingTxProfile: ChargingProfile | null = null;
  private inoperativeAfterTransaction = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: RemoteControlOptions) {
    this.o = options;
    this.log = options.logger;
  }

  get operative(): boolean {
    return this.o.keys.operative;
  }

  start(): void {
    const { tracker } = this.o;
    this.unsubscribe.push(
      tracker.events.on('opened', () => {
        const profile = this.pendingTxProfile;
        this.pendingTxProfile = null;
        this.stopWaiting();
        if (profile) this.o.current.setProfile({ connectorId: 1, csChargingProfiles: profile });
      }),
      tracker.events.on('closed', () => {
        if (!this.inoperativeAfterTransaction) return;
        this.inoperativeAfterTransaction = false;
        this.setOperative(false);
      }),
      tracker.events.on('authorized', (_tx, info) => this.onAuthorized(info)),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.stopWaiting();
  }

  remoteStart(request: RequestOf<'RemoteStartTransaction'>): ResponseOf<'RemoteStartTransaction'> {
    const { charger, tracker, current } = this.o;
    const state = charger.getState();
    const refuse = (why: string): ResponseOf<'RemoteStartTransaction'> => {
      this.log.info({ why }, 'RemoteStartTransaction rejected');
      return { status: 'Rejected' };
    };
    if (request.connectorId !== undefined && request.connectorId !== 1) return refuse('no such connector');
    if (tracker.open) return refuse('a transaction is running');
    if (tracker.awaitingStart) return refuse('a remote start is already waiting');
    if (state.link !== 'online') return refuse('the BS20 is not connected');
    if (!this.operative) return refuse('the connector is Inoperative');
    if (state.status === 'error') return refuse('the BS20 reports an error');
    const profile = request.chargingProfile;
    if (profile && profile.chargingProfilePurpose !== 'TxProfile')
      return refuse('the profile must be a TxProfile');
    if (current.startCurrentA() === null) return refuse('the charging profiles allow less than 6 A now');
    this.pendingTxProfile = profile ?? null;
    tracker.expectStart(request.idTag);
    this.o.afterReply(() => this.proceedRemoteStart(request.idTag));
    return { status: 'Accepted' };
  }

  remoteStop(request: RequestOf<'RemoteStopTransaction'>): ResponseOf<'RemoteStopTransaction'> {
    const { tracker } = this.o;
    if (!tracker.open || tracker.transactionId !== request.transactionId) {
      this.log.info(
        { transactionId: request.transactionId },
        'RemoteStopTransaction for an unknown transaction',
      );
      return { status: 'Rejected' };
    }
    this.o.afterReply(() => this.endTransaction('Remote'));
    return { status: 'Accepted' };
  }

  changeAvailability(request: RequestOf<'ChangeAvailability'>): ResponseOf<'ChangeAvailability'> {
    if (request.connectorId !== 0 && request.connectorId !== 1) return { status: 'Rejected' };
    const operative = request.type === 'Operative';
    if (!operative && this.o.tracker.open) {
      this.inoperativeAfterTransaction = true;
      return { status: 'Scheduled' };
    }
    this.inoperativeAfterTransaction = false;
    this.setOperative(operative);
    return { status: 'Accepted' };
  }

  reset(request: RequestOf<'Reset'>): ResponseOf<'Reset'> {
    this.o.afterReply(async () => {
      if (this.o.tracker.open) await this.endTransaction(request.type === 'Hard' ? 'HardReset' : 'SoftReset');
      this.o.reboot();
    });
    return { status: 'Accepted' };
  }

  /** The BS20's cable is fixed: nothing to unlock, but a running transaction ends (TC_017_2). */
  unlock(request: RequestOf<'UnlockConnector'>): ResponseOf<'UnlockConnector'> {
    if (request.connectorId === 1 && this.o.tracker.open) {
      this.o.afterReply(() => this.endTransaction('UnlockCommand'));
    }
    return { status: 'NotSupported' };
  }

  // ---- work after the answer -------------------------------------------------------------------

  private async proceedRemoteStart(idTag: string): Promise<void> {
    const { keys, tracker, charger } = this.o;
    if (keys.getBool('AuthorizeRemoteTxRequests')) {
      const info = await this.o.authorize(idTag);
      if (info?.status !== 'Accepted') {
        this.log.info({ status: info?.status ?? 'no answer' }, 'remote start not authorised');
        this.abandonStart();
        return;
      }
    }
    if (!tracker.awaitingStart) return;
    if (charger.getState().plugged) {
      await this.startCharging(idTag);
      return;
    }
    // Wait for the cable up to ConnectionTimeOut (TC_011).
    this.stopWaiting();
    this.offPlugged = charger.events.on('event', (event) => {
      if (event.type !== 'plugged') return;
      this.stopWaiting();
      void this.startCharging(idTag);
    });
    this.waitTimer = this.o.clock.setTimeout(() => {
      this.log.info('no car plugged in within ConnectionTimeOut; remote start dropped');
      this.abandonStart();
    }, keys.getInt('ConnectionTimeOut') * 1000);
  }

  private async startCharging(idTag: string): Promise<void> {
    const currentA = this.o.current.startCurrentA();
    try {
      const outcome = await requestStart(
        this.o.charger,
        typeof currentA === 'number' ? { idTag, currentA } : { idTag },
      );
      if (outcome.kind !== 'deferred') return;
      // Held by the switching rules: the transaction begins when the charger starts, or not at all.
      this.log.info(
        { until: new Date(outcome.until).toISOString() },
        'remote start held: contactor protection',
      );
      void outcome.settled.then((result) => {
        if (result.kind !== 'failed' && result.kind !== 'cancelled') return;
        this.log.warn({ result }, 'the held remote start did not happen');
        this.abandonStart();
      });
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'remote start failed at the BS20',
      );
      this.abandonStart();
    }
  }

  private abandonStart(): void {
    this.stopWaiting();
    this.pendingTxProfile = null;
    this.o.tracker.cancelExpectedStart();
  }

  private stopWaiting(): void {
    this.o.clock.clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.offPlugged?.();
    this.offPlugged = null;
  }

  /** Stops the energy flow with `reason`; a paused transaction has nothing to stop and ends now. */
  private async endTransaction(reason: StopReason): Promise<void> {
    const { tracker, charger } = this.o;
    if (!tracker.open) return;
    if (tracker.paused) {
      tracker.stopNow(reason);
      return;
    }
    tracker.noteStopReason(reason);
    this.o.onStopRequested?.();
    try {
      await charger.stopCharging();
    } catch (err) {
      if (!(err instanceof ChargerCommandError)) throw err;
      this.log.warn({ err: err.message, reason }, 'the BS20 did not stop');
    }
  }

  private onAuthorized(info: IdTagInfo): void {
    if (info.status === 'Accepted') return;
    if (this.o.keys.getBool('StopTransactionOnInvalidId')) {
      this.log.warn({ status: info.status }, 'idTag refused by the central system: stopping the charge');
      void this.endTransaction('DeAuthorized');
    } else {
      void this.suspendDeauthorized(info.status);
    }
  }

  /**
   * StopTransactionOnInvalidId false: "only stop the energy delivery" (OCPP 1.6 §5.x of
   * StartTransaction). The BS20 stops; the transaction stays open (SuspendedEVSE) until the cable is
   * pulled or the backend sends RemoteStop, and no charging profile resumes it.
   */
  private async suspendDeauthorized(status: string): Promise<void> {
    const { tracker, charger } = this.o;
    if (!tracker.open || tracker.deauthorized) return;
    this.log.warn(
      { status },
      'idTag refused by the central system: energy stops, the transaction stays open (StopTransactionOnInvalidId is false)',
    );
    const wasPaused = tracker.paused;
    tracker.setDeauthorized();
    this.o.onChange();
    if (wasPaused) return; // already not charging
    this.o.onPauseRequested?.('deauthorized');
    try {
      await charger.stopCharging();
    } catch (err) {
      if (!(err instanceof ChargerCommandError)) throw err;
      this.log.warn({ err: err.message }, 'the BS20 did not stop');
    }
  }

  private setOperative(operative: boolean): void {
    if (this.o.keys.operative === operative) return;
    this.o.keys.operative = operative;
    this.o.saveSettings();
    this.o.onChange();
  }
}
