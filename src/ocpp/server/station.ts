/**
 * One OCPP station as the central system sees it: its current connection (at most one), what it
 * told us at boot, its connectors (each a core Charger) and the transactions it runs. Inbound calls
 * arrive already parsed (handlers.ts); outbound calls go through `send`, which never queues for an
 * absent station and turns every failure into a ChargerCommandError.
 */
import type { ChargerInfo } from '../../core/charger.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import type { IssueListener, RpcServerClient } from '../rpc.js';
import type { CentralSystemAction, IdTagInfo, RequestOf, ResponseOf } from '../types.js';
import type { IdTagAuthorizer } from './authorizer.js';
import { mergeReading } from './connector-state.js';
import type { BootInput, StartInput, StatusInput, StopInput } from './inbound.js';
import type { MeterParse } from './meter-values.js';
import { callStation } from './station-calls.js';
import { OcppStationCharger, type StationPort } from './station-charger.js';
import type { StationConfig } from './station-config.js';
import { startTransaction, stopTransaction, type TransactionContext } from './station-transactions.js';
import type { TransactionLedger } from './transactions.js';

export type Admission = 'accepted' | 'pending';

export interface StationDeps {
  ledger: TransactionLedger;
  authorizer: IdTagAuthorizer;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  heartbeatIntervalS: number;
  /** Boot interval for a Pending station: how soon it asks again. */
  pendingIntervalS: number;
  onIssue?: IssueListener;
}

export class OcppStation implements StationPort {
  readonly stationId: string;
  readonly identity: string;
  readonly config: StationConfig;
  readonly admission: Admission;
  readonly chargers: readonly OcppStationCharger[];
  private readonly d: StationDeps;
  private readonly log: Logger;
  private client: RpcServerClient | null = null;
  private infoValue: ChargerInfo;
  private stackLevel = 0;
  /** A BootNotification has told us who the station is (since chargebridge started). */
  private identified = false;
  private readonly warnedConnectors = new Set<number>();

  constructor(config: StationConfig, admission: Admission, deps: StationDeps) {
    this.config = config;
    this.stationId = config.id;
    this.identity = config.identity;
    this.admission = admission;
    this.d = deps;
    this.log = deps.logger.child({ station: config.id });
    this.infoValue = {
      manufacturer: 'OCPP',
      model: 'OCPP 1.6J station',
      serialNumber: null,
      firmwareVersion: null,
      hardwareVersion: null,
      phases: config.phases ?? 1,
      hardwareMaxCurrentA: config.maxCurrentA,
      maxPowerW: null,
      bleAddress: null,
    };
    const chargers: OcppStationCharger[] = [];
    for (let n = 1; n <= (admission === 'accepted' ? config.connectors : 0); n++) {
      chargers.push(
        new OcppStationCharger({
          id: n === 1 ? config.id : `${config.id}_${n}`,
          name: n === 1 ? config.name : `${config.name} ${n}`,
          connectorId: n,
          station: this,
          maxCurrentA: config.maxCurrentA,
          authorizer: deps.authorizer,
          clock: deps.clock,
          logger: deps.logger,
        }),
      );
    }
    this.chargers = chargers;
    this.restoreOpenTransactions();
  }

  info(): ChargerInfo {
    return this.infoValue;
  }

  profileStackLevel(): number {
    return this.stackLevel;
  }

  get connected(): boolean {
    return this.client !== null;
  }

  /** A new connection for this identity (the central system closes any older one). */
  attach(client: RpcServerClient): void {
    this.client = client;
    const now = this.d.clock.now();
    for (const c of this.chargers) {
      c.apply((f) => {
        f.link = 'online';
        f.everOnline = true;
        f.lastSeenAt = now;
      });
    }
  }

  /** A connection closed; only the current one takes the station offline. */
  detach(client: RpcServerClient): void {
    if (this.client !== client) return;
    this.client = null;
    for (const c of this.chargers) {
      c.apply((f) => {
        f.link = 'offline';
      });
    }
  }

  isCurrent(client: RpcServerClient): boolean {
    return this.client === client;
  }

  /** Any frame from the station: it is alive (Home Assistant's last seen). */
  seen(): void {
    this.touch(this.chargers);
  }

  private touch(chargers: readonly OcppStationCharger[]): void {
    const now = this.d.clock.now();
    for (const c of chargers) {
      c.apply((f) => {
        f.lastSeenAt = now;
      });
    }
  }

  onBoot(boot: BootInput): { status: 'Accepted' | 'Pending'; interval: number } {
    const info = this.infoValue;
    if (
      info.manufacturer !== boot.vendor ||
      info.model !== boot.model ||
      info.serialNumber !== boot.serialNumber ||
      info.firmwareVersion !== boot.firmwareVersion
    ) {
      this.infoValue = {
        ...info,
        manufacturer: boot.vendor,
        model: boot.model,
        serialNumber: boot.serialNumber,
        firmwareVersion: boot.firmwareVersion,
      };
    }
    this.identified = true;
    this.seen();
    this.log.info({ vendor: boot.vendor, model: boot.model, admission: this.admission }, 'station booted');
    return this.admission === 'accepted'
      ? { status: 'Accepted', interval: this.d.heartbeatIntervalS }
      : { status: 'Pending', interval: this.d.pendingIntervalS };
  }

  onStatus(input: StatusInput): void {
    const now = this.d.clock.now();
    const status = {
      status: input.status,
      errorCode: input.errorCode,
      info: input.info,
      vendorErrorCode: input.vendorErrorCode,
      at: input.timestamp ?? now,
    };
    if (input.connectorId === 0) {
      for (const c of this.chargers)
        c.apply((f) => {
          f.stationStatus = status;
          f.lastSeenAt = now;
        });
      return;
    }
    const charger = this.connector(input.connectorId, 'StatusNotification');
    if (!charger) {
      this.seen();
      return;
    }
    charger.apply((f) => {
      f.status = status;
      f.stoppedSinceStatus = false;
      f.lastSeenAt = now;
    });
    this.touch(this.chargers.filter((c) => c !== charger));
  }

  onAuthorize(idTag: string): IdTagInfo {
    const decision = this.d.authorizer.authorize(idTag);
    this.seen();
    for (const c of this.chargers) c.emitTag(idTag, decision.user);
    this.log.info({ idTag, user: decision.user, status: decision.idTagInfo.status }, 'authorize');
    return this.admission === 'accepted' ? decision.idTagInfo : { status: 'Invalid' };
  }

  onStart(input: StartInput): Promise<{ transactionId: number; idTagInfo: IdTagInfo }> {
    return startTransaction(this.transactionContext(), input);
  }

  onStop(input: StopInput): Promise<{ idTagInfo?: IdTagInfo }> {
    return stopTransaction(this.transactionContext(), input);
  }

  onMeterValues(parse: MeterParse): void {
    const now = this.d.clock.now();
    if (parse.issues.length > 0)
      this.log.debug({ issues: parse.issues }, 'parts of MeterValues were skipped');
    // Connector 0 is the station's main meter: it only stands for the connector of a one-connector station.
    const connectorId = parse.connectorId === 0 && this.chargers.length === 1 ? 1 : parse.connectorId;
    const charger = connectorId === null ? undefined : this.connector(connectorId, 'MeterValues');
    if (!charger) {
      this.seen();
      return;
    }
    const { reading } = parse;
    if (this.config.phases === null && this.infoValue.phases === 1) {
      const threePhase = [1, 2].some(
        (i) => reading.currentPhaseA[i] != null || reading.voltagePhaseV[i] != null,
      );
      if (threePhase) this.infoValue = { ...this.infoValue, phases: 3 };
    }
    const phases = this.infoValue.phases;
    charger.apply((f) => {
      f.meter = mergeReading(f.meter, reading);
      f.phases = phases;
      f.lastSeenAt = now;
    });
  }

  send<A extends CentralSystemAction>(action: A, params: RequestOf<A>): Promise<ResponseOf<A>> {
    return callStation(this.client, this.stationId, action, params, {
      timeoutMs: this.d.callTimeoutMs,
      ...(this.d.onIssue ? { onIssue: this.d.onIssue } : {}),
    });
  }

  /**
   * After an accepted boot or a reconnect: learn the profile stack level, ask who the station is if
   * it reconnected without booting (chargebridge restarted meanwhile), refresh every status.
   */
  async refresh(): Promise<void> {
    if (this.admission !== 'accepted') return;
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['read ChargeProfileMaxStackLevel', () => this.readStackLevel()],
      ...(this.identified
        ? []
        : [
            [
              'ask for BootNotification',
              () => this.send('TriggerMessage', { requestedMessage: 'BootNotification' }),
            ] as [string, () => Promise<unknown>],
          ]),
      [
        'ask for StatusNotification',
        () => this.send('TriggerMessage', { requestedMessage: 'StatusNotification' }),
      ],
    ];
    for (const [what, step] of steps) {
      if (!this.client) return;
      await step().catch((err: unknown) =>
        this.log.debug({ err: String(err) }, `${what} failed (tolerated)`),
      );
    }
  }

  private async readStackLevel(): Promise<void> {
    const answer = await this.send('GetConfiguration', { key: ['ChargeProfileMaxStackLevel'] });
    const entry = answer.configurationKey?.find((k) => k.key === 'ChargeProfileMaxStackLevel');
    const level = Number(entry?.value);
    if (Number.isInteger(level) && level >= 0) this.stackLevel = level;
  }

  private connector(connectorId: number, what: string): OcppStationCharger | undefined {
    const charger = this.chargers[connectorId - 1];
    if (!charger && this.admission === 'accepted' && !this.warnedConnectors.has(connectorId)) {
      this.warnedConnectors.add(connectorId);
      this.log.warn(
        { connector: connectorId, configured: this.chargers.length, what },
        'message for a connector beyond the configured count; raise `connectors` in the station config to see it',
      );
    }
    return charger;
  }

  /** After a restart, a transaction still open in the ledger can be stopped from Home Assistant. */
  private restoreOpenTransactions(): void {
    for (const charger of this.chargers) {
      const open = this.d.ledger.openOn(this.stationId, charger.connectorId);
      if (!open) continue;
      const user = this.d.authorizer.authorize(open.idTag).user;
      const ownTag = open.idTag.toUpperCase() === this.d.authorizer.defaultIdTag.toUpperCase();
      charger.apply((f) => {
        f.transaction = {
          id: open.id,
          idTag: open.idTag,
          user,
          reportIdTag: !ownTag,
          startedAt: open.startedAt,
          meterStartWh: open.meterStartWh,
          stoppedAt: null,
          meterStopWh: null,
          stopReason: null,
        };
      });
    }
  }

  private transactionContext(): TransactionContext {
    return {
      stationId: this.stationId,
      accepted: this.admission === 'accepted',
      ledger: this.d.ledger,
      authorizer: this.d.authorizer,
      clock: this.d.clock,
      log: this.log,
      connector: (id, what) => this.connector(id, what),
      seen: () => this.seen(),
    };
  }
}
