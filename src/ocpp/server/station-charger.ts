/**
 * One connector of an OCPP station as a core Charger (kind 'ocpp'). Its state is recomputed from the
 * connector facts the station feeds in (connector-state.ts); its commands become OCPP calls through
 * the station, which turns every failure into a ChargerCommandError a user can read.
 *
 * Multi-connector stations: one OcppStationCharger per connector; connector 1 has the station's id,
 * connector n ≥ 2 the id `<station>_<n>` (station-config.ts).
 */
import {
  ChargerCommandError,
  type ChargerEvents,
  type ChargerInfo,
  type ChargerState,
  checkCurrent,
  emptyState,
  type RestartableCharger,
  type StartChargingOptions,
} from '../../core/charger.js';
import type { Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import type { Logger } from '../../log.js';
import type { CentralSystemAction, ChargingProfile, RequestOf, ResponseOf } from '../types.js';
import type { IdTagAuthorizer } from './authorizer.js';
import { type ConnectorFacts, deriveState, diffEvents, initialFacts } from './connector-state.js';

/** What a connector needs from its station. */
export interface StationPort {
  readonly stationId: string;
  /** Sends one call; rejects with ChargerCommandError (offline, timeout, rejected, not_supported). */
  send<A extends CentralSystemAction>(action: A, params: RequestOf<A>): Promise<ResponseOf<A>>;
  info(): ChargerInfo;
  /** stackLevel for our TxDefaultProfile (the station's ChargeProfileMaxStackLevel when known). */
  profileStackLevel(): number;
}

export interface OcppStationChargerOptions {
  id: string;
  name: string;
  connectorId: number;
  station: StationPort;
  /** The user's ceiling in amps: no limit above it is ever sent. */
  maxCurrentA: number;
  authorizer: IdTagAuthorizer;
  clock: Clock;
  logger: Logger;
}

/** Our TxDefaultProfile ids: one per connector, so an update replaces the previous one. */
export const PROFILE_ID_BASE = 7700;
/** How long a remote start names the user of the transaction that follows. */
const REMOTE_START_WINDOW_MS = 10 * 60_000;

export interface RemoteStartIntent {
  idTag: string;
  user: string | null;
  at: number;
}

export class OcppStationCharger implements RestartableCharger {
  readonly kind = 'ocpp' as const;
  readonly id: string;
  readonly name: string;
  readonly connectorId: number;
  readonly events = new TypedEmitter<ChargerEvents>();
  private readonly o: OcppStationChargerOptions;
  private readonly log: Logger;
  private facts: ConnectorFacts;
  private state: ChargerState;
  private remoteStart: RemoteStartIntent | null = null;

  constructor(options: OcppStationChargerOptions) {
    this.o = options;
    this.id = options.id;
    this.name = options.name;
    this.connectorId = options.connectorId;
    this.log = options.logger.child({ charger: options.id, connector: options.connectorId });
    const now = options.clock.now();
    this.facts = initialFacts(options.connectorId, options.station.info().phases, now);
    this.state = deriveState(this.facts, emptyState(now), now);
  }

  getState(): ChargerState {
    return this.state;
  }

  /** The station's identity (the same object until it changes, so discovery is re-sent only then). */
  getInfo(): ChargerInfo {
    return this.o.station.info();
  }

  getCurrentCeilingA(): number {
    return Math.min(this.o.maxCurrentA, this.o.station.info().hardwareMaxCurrentA);
  }

  /** The link belongs to the central system: stations connect to us. */
  async open(): Promise<void> {}

  async close(): Promise<void> {}

  /** Read-only view of the connector facts (tests, diagnostics). */
  getFacts(): Readonly<ConnectorFacts> {
    return this.facts;
  }

  /** The station changes what we know; state and events follow. */
  apply(change: (facts: ConnectorFacts) => void, stopReason: string | null = null): void {
    const next = structuredClone(this.facts);
    change(next);
    this.facts = next;
    const previous = this.state;
    const now = this.o.clock.now();
    this.state = deriveState(next, previous, now);
    for (const event of diffEvents(previous, this.state, now, stopReason)) this.events.emit('event', event);
    this.events.emit('state', this.state, previous);
  }

  /** An idTag was presented at the station (Authorize / StartTransaction). */
  emitTag(idTag: string, user: string | null): void {
    this.events.emit('event', { type: 'rfid', at: this.o.clock.now(), data: { idTag, user } });
  }

  /** The remote start this connector is waiting for, if it is recent enough. */
  takeRemoteStart(idTag: string): RemoteStartIntent | null {
    const intent = this.remoteStart;
    if (!intent || this.o.clock.now() - intent.at > REMOTE_START_WINDOW_MS) return null;
    if (intent.idTag.toUpperCase() !== idTag.toUpperCase()) return null;
    this.remoteStart = null;
    return intent;
  }

  async startCharging(options: StartChargingOptions = {}): Promise<void> {
    if (options.startAt !== undefined) {
      throw new ChargerCommandError(
        'not_supported',
        `station ${this.id} cannot schedule a start; start it when needed`,
      );
    }
    if (options.limitEnergyKwh !== undefined || options.limitMinutes !== undefined) {
      throw new ChargerCommandError(
        'not_supported',
        `station ${this.id} does not take energy or time limits`,
      );
    }
    this.requireOnline();
    const open = this.facts.transaction;
    if (open && open.stoppedAt === null) return; // already charging (or authorised): nothing to do
    if (options.currentA !== undefined) await this.setMaxCurrent(options.currentA);
    const { authorizer } = this.o;
    const fromUser = options.userId !== undefined ? authorizer.idTagForUser(options.userId) : null;
    const idTag = options.idTag ?? fromUser ?? authorizer.defaultIdTag;
    const answer = await this.o.station.send('RemoteStartTransaction', {
      connectorId: this.connectorId,
      idTag,
    });
    if (answer.status !== 'Accepted') {
      throw new ChargerCommandError(
        'rejected',
        `station ${this.id} refused to start charging (RemoteStartTransaction ${answer.status}); is a car plugged in and the connector available?`,
      );
    }
    // "Accepted" only means it will try: the transaction exists once StartTransaction arrives.
    this.remoteStart = {
      idTag,
      user: options.userId ?? authorizer.authorize(idTag).user,
      at: this.o.clock.now(),
    };
    this.log.info({ idTag, user: this.remoteStart.user }, 'remote start accepted');
  }

  async stopCharging(): Promise<void> {
    this.requireOnline();
    const tx = this.facts.transaction;
    if (!tx || tx.stoppedAt !== null) {
      throw new ChargerCommandError(
        'rejected',
        `no charging session is running on ${this.id}; nothing to stop`,
      );
    }
    const answer = await this.o.station.send('RemoteStopTransaction', { transactionId: tx.id });
    if (answer.status !== 'Accepted') {
      throw new ChargerCommandError('rejected', `station ${this.id} refused to stop transaction ${tx.id}`);
    }
    this.log.info({ transactionId: tx.id }, 'remote stop accepted');
  }

  async setMaxCurrent(amps: number): Promise<void> {
    const checked = checkCurrent(amps, this.getCurrentCeilingA());
    this.requireOnline();
    const answer = await this.o.station.send('SetChargingProfile', {
      connectorId: this.connectorId,
      csChargingProfiles: this.profileFor(checked),
    });
    if (answer.status !== 'Accepted') {
      throw new ChargerCommandError(
        answer.status === 'NotSupported' ? 'not_supported' : 'rejected',
        `station ${this.id} did not accept a ${checked} A limit (SetChargingProfile ${answer.status})`,
      );
    }
    this.apply((f) => {
      f.limitA = checked;
    });
    this.log.info({ currentA: checked }, 'charging current limit set');
  }

  /** Soft reset of the whole station (Home Assistant's restart button). */
  async restart(): Promise<void> {
    this.requireOnline();
    const answer = await this.o.station.send('Reset', { type: 'Soft' });
    if (answer.status !== 'Accepted') {
      throw new ChargerCommandError('rejected', `station ${this.id} refused to restart`);
    }
  }

  /** A TxDefaultProfile in amps with a fixed id and stack level: every update replaces the last. */
  private profileFor(limitA: number): ChargingProfile {
    const now = new Date(this.o.clock.now());
    // Midnight UTC today: already started, even on a charger whose clock is a few hours off.
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    return {
      chargingProfileId: PROFILE_ID_BASE + this.connectorId,
      stackLevel: this.o.station.profileStackLevel(),
      chargingProfilePurpose: 'TxDefaultProfile',
      chargingProfileKind: 'Absolute',
      chargingSchedule: {
        startSchedule: new Date(start).toISOString(),
        chargingRateUnit: 'A',
        chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }],
      },
    };
  }

  private requireOnline(): void {
    if (this.facts.link === 'online') return;
    const seen = this.facts.everOnline
      ? `last seen ${new Date(this.facts.lastSeenAt).toISOString()}`
      : 'it has not connected since chargebridge started';
    throw new ChargerCommandError(
      'offline',
      `station ${this.id} is not connected (${seen}); nothing was sent`,
    );
  }
}
