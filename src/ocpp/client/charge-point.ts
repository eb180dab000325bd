/**
 * One BS20 (any core Charger) presented upstream as an OCPP 1.6J charge point with one connector.
 * Wires the parts together: connection (socket, boot, heartbeat), offline queue (transaction
 * messages), transaction tracker, current control (charging profiles), remote control, config
 * keys; and sends StatusNotification whenever the mapped status changes.
 */
import { join } from 'node:path';
import type { Charger } from '../../core/charger.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log.js';
import { DurableJsonFile } from '../../sessions/durable-adapter.js';
import type { IdTagInfo, MeterValue, RequestOf, ResponseOf } from '../types.js';
import { ConfigurationKeys, defaultKeyValues, type StoredKeys, storedKeysSchema } from './config-keys.js';
import { type Credentials, UpstreamConnection } from './connection.js';
import { attachCsmsHandlers } from './csms-handlers.js';
import { CurrentControl, type StoredProfiles, storedProfilesSchema } from './current-control.js';
import { basicAuthPassword, bootRequestFor } from './identity.js';
import { type Journal, journalSchema, OfflineQueue } from './offline-queue.js';
import { RemoteControl } from './remote-control.js';
import { StatusReporter } from './status-reporter.js';
import { TransactionTracker } from './transactions.js';

/** Longest wait for the BS20's login before the first boot goes out anyway. */
const WAIT_FOR_CHARGER_MS = 20_000;

export interface OcppUpstreamSettings {
  /** ws:// or wss:// address of the central system, without the station id. */
  url: string;
  stationId: string;
  securityProfile: 0 | 1 | 2;
  /** Basic-auth password (the AuthorizationKey as the central system shows it). */
  password: string | undefined;
  passwordEncoding: 'auto' | 'hex' | 'text';
  tls: { ca?: Buffer; rejectUnauthorized: boolean } | undefined;
  /** idTag of sessions started without one. */
  idTag: string;
  meterValueSampleIntervalS: number;
  heartbeatIntervalS: number;
  pingIntervalS: number;
  callTimeoutS: number;
  reconnectMaxDelayS: number;
}

export interface ChargePointBridgeOptions {
  charger: Charger;
  settings: OcppUpstreamSettings;
  /** Queue, settings and profiles live in `<dataDir>/ocpp-upstream/`. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** Clock-aligned meter readings count from midnight in this zone (default UTC). */
  timeZone?: string;
  /** First reconnect delay (doubles up to reconnectMaxDelayS). */
  reconnectInitialMs?: number;
  /** Every frame on the wire (tests validate them). */
  onFrame?: (message: string, outbound: boolean) => void;
  /** A transaction is ended on purpose (RemoteStop, a refused idTag…): the session tracker records the stop. */
  onStopRequested?: () => void;
  /** The charge pauses inside the transaction (a profile below 6 A): the session tracker keeps one session. */
  onPauseRequested?: (reason: string) => void;
}

export class ChargePointBridge {
  readonly charger: Charger;
  readonly connection: UpstreamConnection;
  readonly queue: OfflineQueue;
  readonly tracker: TransactionTracker;
  readonly current: CurrentControl;
  readonly remote: RemoteControl;
  readonly keys: ConfigurationKeys;
  readonly status: StatusReporter;
  private readonly o: ChargePointBridgeOptions;
  private readonly log: Logger;
  private readonly settingsFile: DurableJsonFile<StoredKeys>;
  private readonly unsubscribe: Array<() => void> = [];

  /** Reads the files from disk, then builds the bridge (not started). */
  static async open(options: ChargePointBridgeOptions): Promise<ChargePointBridge> {
    const dir = join(options.dataDir, 'ocpp-upstream');
    const id = options.charger.id;
    const common = { clock: options.clock, logger: options.logger };
    const settingsFile = new DurableJsonFile<StoredKeys>({
      path: join(dir, `${id}.settings.json`),
      schema: storedKeysSchema,
      ...common,
    });
    const journalFile = new DurableJsonFile<Journal>({
      path: join(dir, `${id}.queue.json`),
      schema: journalSchema,
      ...common,
    });
    const profilesFile = new DurableJsonFile<StoredProfiles>({
      path: join(dir, `${id}.profiles.json`),
      schema: storedProfilesSchema,
      ...common,
    });
    const bridge = new ChargePointBridge(
      options,
      settingsFile,
      await settingsFile.read(),
      journalFile,
      profilesFile,
    );
    await bridge.queue.load();
    await bridge.current.load();
    return bridge;
  }

  private constructor(
    options: ChargePointBridgeOptions,
    settingsFile: DurableJsonFile<StoredKeys>,
    storedKeys: StoredKeys | null,
    journalFile: DurableJsonFile<Journal>,
    profilesFile: DurableJsonFile<StoredProfiles>,
  ) {
    this.o = options;
    const { charger, settings, clock } = options;
    this.charger = charger;
    this.log = options.logger.child({ charger: charger.id, ocpp: settings.stationId });
    this.settingsFile = settingsFile;
    const defaults = defaultKeyValues({
      meterValueSampleIntervalS: settings.meterValueSampleIntervalS,
      heartbeatIntervalS: settings.heartbeatIntervalS,
      webSocketPingIntervalS: settings.pingIntervalS,
      securityProfile: settings.securityProfile,
    });
    defaults.AuthorizationKey = settings.password ?? '';
    this.keys = new ConfigurationKeys(defaults, storedKeys, {
      maxSecurityProfile: /^wss:/i.test(settings.url) ? 2 : 1,
      hasConfiguredPassword: settings.password !== undefined,
    });
    const log = this.log;
    this.connection = new UpstreamConnection({
      url: settings.url,
      stationId: settings.stationId,
      credentials: () => this.credentials(),
      tls: settings.tls,
      bootRequest: () => bootRequestFor(this.charger.getInfo()),
      attachHandlers: (client) =>
        attachCsmsHandlers(client, {
          remote: this.remote,
          current: this.current,
          getConfiguration: (r) => this.keys.list(r.key),
          changeConfiguration: (r) => this.changeConfiguration(r),
          triggerMessage: (r) => this.triggerMessage(r),
          silenced: () => this.connection.registration === 'Rejected',
          bootSettled: () => this.connection.whenBootSettled(),
          logger: log,
        }),
      clock,
      logger: log,
      callTimeoutMs: settings.callTimeoutS * 1000,
      pingIntervalS: () => this.keys.getInt('WebSocketPingInterval'),
      reconnectInitialMs: options.reconnectInitialMs ?? 2000,
      reconnectMaxMs: settings.reconnectMaxDelayS * 1000,
      onFrame: options.onFrame,
    });
    this.queue = new OfflineQueue({
      file: journalFile,
      sender: {
        ready: () => this.connection.ready,
        send: (action, payload) => this.connection.request(action, payload as never),
      },
      clock,
      logger: log,
      retryPolicy: () => ({
        attempts: this.keys.getInt('TransactionMessageAttempts'),
        intervalS: this.keys.getInt('TransactionMessageRetryInterval'),
      }),
      onStartAnswered: (txRef, response) => this.tracker.onStartAnswered(txRef, response),
    });
    this.tracker = new TransactionTracker({
      charger,
      queue: this.queue,
      keys: this.keys,
      clock,
      logger: log,
      defaultIdTag: settings.idTag,
      offeredCurrentA: () => this.current.offeredCurrentA(),
      sendUnqueued: (meterValue) => void this.sendMeterValue(meterValue, null, false),
      timeZone: options.timeZone ?? 'UTC',
    });
    this.current = new CurrentControl({
      charger,
      tracker: this.tracker,
      keys: this.keys,
      file: profilesFile,
      clock,
      logger: log,
      onChange: () => this.status.refresh(),
      ...(options.onPauseRequested ? { onPauseRequested: options.onPauseRequested } : {}),
    });
    this.remote = new RemoteControl({
      charger,
      tracker: this.tracker,
      current: this.current,
      keys: this.keys,
      clock,
      logger: log,
      authorize: (idTag) => this.authorize(idTag),
      saveSettings: () => this.saveSettings(),
      ...(options.onStopRequested ? { onStopRequested: options.onStopRequested } : {}),
      ...(options.onPauseRequested ? { onPauseRequested: options.onPauseRequested } : {}),
      reboot: () => {
        this.connection.rebootNeeded();
        this.connection.reconnectNow('Reset');
      },
      onChange: () => this.status.refresh(),
      afterReply: (work) => this.afterReply(work),
    });
    this.status = new StatusReporter({
      charger,
      tracker: this.tracker,
      keys: this.keys,
      connection: this.connection,
      clock,
      logger: log,
    });
  }

  start(): void {
    // The tracker listens first, so a status computed on a state change already knows the transaction.
    this.tracker.start();
    this.current.start();
    this.remote.start();
    const { charger, connection } = this;
    this.unsubscribe.push(
      charger.events.on('state', () => this.status.refresh()),
      this.tracker.events.on('changed', () => this.status.refresh()),
      connection.events.on('registration', (status, intervalS) => {
        if (status !== 'Accepted' || intervalS <= 0) return;
        if (this.keys.change('HeartbeatInterval', String(intervalS)).result === 'Accepted')
          this.saveSettings();
      }),
      connection.events.on('ready', (booted) => this.onReady(booted)),
    );
    connection.setHeartbeatInterval(this.keys.getInt('HeartbeatInterval'));
    this.connectWhenChargerKnown();
  }

  /**
   * The boot names the charger (serial, firmware): give the BLE login a little time first, but
   * never wait for it (a charger out of range still shows up upstream, as Unavailable).
   */
  private connectWhenChargerKnown(): void {
    const { charger, connection } = this;
    const known = () => charger.getState().link === 'online' && charger.getInfo().firmwareVersion !== null;
    if (known()) {
      connection.start();
      return;
    }
    const go = () => {
      off();
      this.o.clock.clearTimeout(timer);
      connection.start();
    };
    const off = charger.events.on('state', () => {
      if (known()) go();
    });
    const timer = this.o.clock.setTimeout(go, WAIT_FOR_CHARGER_MS);
    this.unsubscribe.push(() => {
      off();
      this.o.clock.clearTimeout(timer);
    });
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    this.remote.stop();
    await this.current.stop();
    this.tracker.stop();
    await this.connection.stop();
    await this.queue.close();
    await this.settingsFile.write(this.keys.toStored()).catch(() => undefined);
  }

  // ---- upstream messages ----------------------------------------------------------------------

  private onReady(booted: boolean): void {
    this.status.sendAll();
    if (booted) this.status.chain(() => this.connection.request('Heartbeat', {}));
    this.status.chain(async () => this.queue.kick());
  }

  private async sendMeterValue(
    meterValue: MeterValue,
    transactionId: number | null,
    allowUnregistered: boolean,
  ) {
    const request: RequestOf<'MeterValues'> = { connectorId: 1, meterValue: [meterValue] };
    if (transactionId !== null) request.transactionId = transactionId;
    if (!allowUnregistered && !this.connection.ready) return;
    await this.connection.request('MeterValues', request, { allowUnregistered });
  }

  private async authorize(idTag: string): Promise<IdTagInfo | null> {
    const outcome = await this.connection.request('Authorize', { idTag });
    return outcome.ok ? outcome.response.idTagInfo : null;
  }

  private credentials(): Credentials {
    if (this.keys.getInt('SecurityProfile') === 0) return { password: null };
    const key = this.keys.get('AuthorizationKey');
    return { password: key === '' ? null : basicAuthPassword(key, this.o.settings.passwordEncoding) };
  }

  // ---- central system requests ----------------------------------------------------------------

  private changeConfiguration(request: RequestOf<'ChangeConfiguration'>): ResponseOf<'ChangeConfiguration'> {
    const { result, key, reason } = this.keys.change(request.key, request.value);
    if (result !== 'Accepted') {
      this.log.info({ key: request.key, result, reason }, 'configuration change refused');
      return { status: result };
    }
    this.saveSettings();
    switch (key) {
      case 'HeartbeatInterval':
        this.connection.setHeartbeatInterval(this.keys.getInt('HeartbeatInterval'));
        break;
      case 'MeterValueSampleInterval':
      case 'ClockAlignedDataInterval':
        this.tracker.intervalsChanged();
        break;
      case 'WebSocketPingInterval':
        this.connection.applyPingInterval();
        break;
      case 'AuthorizationKey':
      case 'SecurityProfile':
        // New credentials take effect on a new connection, after this answer (TC_073).
        this.afterReply(() => this.connection.reconnectNow(`${key} changed`));
        break;
    }
    return { status: 'Accepted' };
  }

  private triggerMessage(request: RequestOf<'TriggerMessage'>): ResponseOf<'TriggerMessage'> {
    const connectorId = request.connectorId;
    if (connectorId !== undefined && connectorId !== 0 && connectorId !== 1) return { status: 'Rejected' };
    const anyTime = { allowUnregistered: true };
    switch (request.requestedMessage) {
      case 'BootNotification':
        this.afterReply(() => this.connection.boot());
        break;
      case 'Heartbeat':
        this.afterReply(() => void this.connection.request('Heartbeat', {}, anyTime));
        break;
      case 'StatusNotification':
        this.afterReply(() => {
          this.status.sendTriggered(connectorId);
        });
        break;
      case 'MeterValues':
        this.afterReply(() => {
          const { meterValue, transactionId } = this.tracker.triggeredSample();
          return this.sendMeterValue(meterValue, transactionId, true);
        });
        break;
      default:
        return { status: 'NotImplemented' };
    }
    return { status: 'Accepted' };
  }

  /** Runs after the current handler's answer has been written to the socket. */
  private afterReply(work: () => Promise<void> | void): void {
    setImmediate(() => {
      Promise.resolve()
        .then(work)
        .catch((err: unknown) =>
          this.log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'follow-up of a central system call failed',
          ),
        );
    });
  }

  private saveSettings(): void {
    void this.settingsFile
      .write(this.keys.toStored())
      .catch((err: unknown) =>
        this.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          'cannot save OCPP settings',
        ),
      );
  }
}
