/**
 * A Besen BS20 as a core Charger: the EVSE Master session underneath, the charger state built from
 * its messages, and commands validated before a single byte is written.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type Charger,
  ChargerCommandError,
  type ChargerEvent,
  type ChargerEvents,
  type ChargerInfo,
  type ChargerState,
  type ClockedCharger,
  type ConfigurableCharger,
  checkCurrent,
  emptyState,
  type StartChargingOptions,
} from '../core/charger.js';
import { type Clock, systemClock } from '../core/clock.js';
import { TypedEmitter } from '../core/emitter.js';
import { type Logger, silentLogger } from '../log.js';
import { diffEvents } from './charger-events.js';
import { type ErrorBitOrder, normaliseStatus, reduceMessage } from './charger-state.js';
import { Cmd, SettingAction } from './protocol/commands.js';
import { CurrentState, Language, TemperatureUnit } from './protocol/enums.js';
import type { EvseMessage, MessageOf } from './protocol/message.js';
import { encodeChargeStartRequest, encodeChargeStopRequest } from './protocol/messages/charge.js';
import { encodeRequestStatusRecord } from './protocol/messages/keepalive.js';
import type { LoginInfo } from './protocol/messages/login.js';
import {
  encodeLanguageSetting,
  encodeMaxCurrentSetting,
  encodeNicknameRequest,
  encodeTemperatureUnitSetting,
  NICKNAME_MAX_LENGTH,
} from './protocol/messages/settings.js';
import { encodeSystemTimeRequest } from './protocol/messages/system-time.js';
import { encodeGetVersion } from './protocol/messages/version.js';
import { unixMsToEm } from './protocol/time.js';
import type { EvseSession, EvseSessionCounters, SessionPhase } from './session.js';

export interface Bs20ChargerOptions {
  id: string;
  name: string;
  session: EvseSession;
  /** The user's ceiling in amps; the charger never gets a higher current from us. */
  maxCurrentA: number;
  /** Phase count override when the beacon's device type is misleading. */
  phases?: 1 | 3;
  /** Name written in the charge-start user field when no user is given (16 ASCII chars max). */
  defaultUserId?: string;
  errorBitOrder?: ErrorBitOrder;
  timeZone?: string;
  clock?: Clock;
  logger?: Logger;
}

/** Largest scheduled start the BS20 accepts (§4.6). */
const MAX_SCHEDULE_AHEAD_MS = 24 * 3600_000;
const USER_ID_MAX = 16;

export class Bs20Charger implements Charger, ConfigurableCharger, ClockedCharger {
  readonly kind = 'bs20' as const;
  readonly id: string;
  readonly name: string;
  readonly events = new TypedEmitter<ChargerEvents>();
  private readonly session: EvseSession;
  private readonly ceilingA: number;
  private readonly phasesOverride: 1 | 3 | undefined;
  private readonly defaultUserId: string;
  private readonly errorBitOrder: ErrorBitOrder;
  private readonly timeZone: string | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private state: ChargerState;
  private info: ChargerInfo;
  private lastCurrentState = 0;
  /** idTag of the start we sent, until the charger reports the session it opened. */
  private pendingIdTag: string | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(options: Bs20ChargerOptions) {
    this.id = options.id;
    this.name = options.name;
    this.session = options.session;
    this.ceilingA = options.maxCurrentA;
    this.phasesOverride = options.phases;
    this.defaultUserId = (options.defaultUserId ?? 'chargebridge').slice(0, USER_ID_MAX);
    this.errorBitOrder = options.errorBitOrder ?? 'lsb';
    this.timeZone = options.timeZone;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger()).child({ charger: options.id });
    this.state = emptyState(this.clock.now());
    this.info = {
      manufacturer: 'Besen',
      model: 'BS20',
      serialNumber: null,
      firmwareVersion: null,
      hardwareVersion: null,
      phases: options.phases ?? 1,
      hardwareMaxCurrentA: options.maxCurrentA,
      maxPowerW: null,
      bleAddress: null,
    };
  }

  getState(): ChargerState {
    return this.state;
  }

  getInfo(): ChargerInfo {
    return this.info;
  }

  getCurrentCeilingA(): number {
    return Math.min(this.ceilingA, this.info.hardwareMaxCurrentA);
  }

  /** Link and command counters of the EVSE Master session underneath (for metrics). */
  linkCounters(): EvseSessionCounters {
    return this.session.counters();
  }

  async open(): Promise<void> {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe.push(
      this.session.events.on('message', (m) => this.onMessage(m)),
      this.session.events.on(
        'logged_in',
        (info, link) => void this.onLoggedIn(info, link.address, link.rssiDbm),
      ),
      this.session.events.on('phase', (phase) => this.onPhase(phase)),
      this.session.events.on('rssi', (dbm) => this.update({ ...this.state, rssiDbm: dbm })),
    );
    this.update({ ...this.state, link: 'connecting' });
    this.session.open();
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.session.close();
    this.update({ ...this.state, link: 'offline', status: 'offline' });
  }

  async startCharging(options: StartChargingOptions = {}): Promise<void> {
    const ceiling = this.getCurrentCeilingA();
    const amps = checkCurrent(
      options.currentA ?? Math.min(this.state.maxCurrentA ?? ceiling, ceiling),
      ceiling,
    );
    const userId = checkUserId(options.userId ?? this.defaultUserId);
    const now = this.clock.now();
    const startAt = options.startAt;
    if (startAt !== undefined) {
      if (!Number.isFinite(startAt) || startAt <= now) {
        throw new ChargerCommandError('invalid', 'a scheduled start must be in the future');
      }
      if (startAt - now > MAX_SCHEDULE_AHEAD_MS) {
        throw new ChargerCommandError(
          'out_of_range',
          'the BS20 accepts a scheduled start at most 24 hours ahead',
        );
      }
    }
    const limitMinutes = checkLimit(options.limitMinutes, 'limitMinutes', 1, 65_534, true);
    const limitEnergyKwh = checkLimit(options.limitEnergyKwh, 'limitEnergyKwh', 0.01, 655.34, false);
    this.requireOnline();
    // After a finished session the BS20 refuses a new start until it gets a stop (Q10).
    if (
      this.lastCurrentState === CurrentState.Completed ||
      this.lastCurrentState === CurrentState.CompletedFullCharge
    ) {
      await this.sendStop(userId).catch((err: unknown) =>
        this.log.debug({ err: String(err) }, 'pre-start stop'),
      );
    }
    const payload = encodeChargeStartRequest({
      lineId: 1,
      userId,
      chargeId: makeChargeId(now, this.timeZone),
      isReservation: startAt !== undefined,
      startTime: { raw: unixMsToEm(startAt ?? now, this.timeZone) },
      maxDurationMinutes: limitMinutes,
      maxEnergyKwh: limitEnergyKwh,
      maxCurrentA: amps,
    });
    const reply = (await this.session.request(
      Cmd.ChargeStart,
      payload,
    )) as MessageOf<'charge_start_response'>;
    if (reply.type !== 'charge_start_response' || !reply.ok) {
      const reason =
        reply.type === 'charge_start_response' ? describeStartRefusal(reply) : 'unexpected answer';
      throw new ChargerCommandError(
        reply.type === 'charge_start_response' && reply.errorReason === 1 ? 'not_plugged' : 'rejected',
        `the charger refused to start: ${reason}`,
      );
    }
    this.log.info({ currentA: amps, user: userId, scheduled: startAt !== undefined }, 'charging started');
    this.pendingIdTag = options.idTag ?? null;
    this.update({ ...this.state, maxCurrentA: amps, scheduledStartAt: startAt ?? null });
    void this.session.send(Cmd.RequestStatusRecord, encodeRequestStatusRecord(null));
  }

  async stopCharging(): Promise<void> {
    this.requireOnline();
    const reply = await this.sendStop(this.state.session?.userId ?? this.defaultUserId);
    if (reply.type !== 'charge_stop_response' || !reply.ok) {
      const reason =
        reply.type === 'charge_stop_response' ? `fail reason ${reply.failReason}` : 'unexpected answer';
      throw new ChargerCommandError('rejected', `the charger refused to stop: ${reason}`);
    }
    this.log.info('charging stopped');
    void this.session.send(Cmd.RequestStatusRecord, encodeRequestStatusRecord(null));
  }

  async setMaxCurrent(amps: number): Promise<void> {
    const checked = checkCurrent(amps, this.getCurrentCeilingA());
    this.requireOnline();
    const reply = await this.session.request(
      Cmd.SetGetMaxCurrent,
      encodeMaxCurrentSetting({ action: SettingAction.Set, currentA: checked }),
    );
    if (reply.type !== 'max_current' || reply.currentA !== checked) {
      throw new ChargerCommandError('rejected', `the charger did not accept ${checked} A`);
    }
    this.log.info({ currentA: checked }, 'charging current set');
  }

  async setName(name: string): Promise<void> {
    if (typeof name !== 'string' || !/^[\x20-\x7e]+$/.test(name) || name.length > NICKNAME_MAX_LENGTH) {
      throw new ChargerCommandError(
        'invalid',
        `the charger name must be 1…${NICKNAME_MAX_LENGTH} printable ASCII characters`,
      );
    }
    this.requireOnline();
    // The BS20 drops the BLE link after a rename (Q12), so the answer may never come.
    await this.session
      .request(Cmd.SetGetNickname, encodeNicknameRequest({ action: SettingAction.Set, name }))
      .catch((err: unknown) => {
        if (!(err instanceof ChargerCommandError) || (err.code !== 'offline' && err.code !== 'timeout'))
          throw err;
      });
    this.update({ ...this.state, settings: { ...this.state.settings, name } });
  }

  async setLanguage(language: string): Promise<void> {
    const code = (Language as Record<string, number>)[toPascal(language)];
    if (code === undefined) {
      throw new ChargerCommandError(
        'invalid',
        `unknown language ${JSON.stringify(language)}; use one of ${Object.keys(Language).map(toSnake).join(', ')}`,
      );
    }
    this.requireOnline();
    await this.session.request(
      Cmd.SetGetLanguage,
      encodeLanguageSetting({ action: SettingAction.Set, language: code }),
    );
  }

  async setTemperatureUnit(unit: 'celsius' | 'fahrenheit'): Promise<void> {
    const code =
      unit === 'celsius'
        ? TemperatureUnit.Celsius
        : unit === 'fahrenheit'
          ? TemperatureUnit.Fahrenheit
          : null;
    if (code === null)
      throw new ChargerCommandError('invalid', 'temperature unit must be celsius or fahrenheit');
    this.requireOnline();
    await this.session.request(
      Cmd.SetGetTemperatureUnit,
      encodeTemperatureUnitSetting({ action: SettingAction.Set, unit: code }),
    );
  }

  async syncClock(): Promise<void> {
    this.requireOnline();
    const raw = unixMsToEm(this.clock.now(), this.timeZone);
    await this.session.request(
      Cmd.SetGetSystemTime,
      encodeSystemTimeRequest({ action: SettingAction.Set, time: { raw } }),
    );
  }

  private sendStop(userId: string): Promise<EvseMessage> {
    return this.session.request(Cmd.ChargeStop, encodeChargeStopRequest({ lineId: 1, userId }));
  }

  private requireOnline(): void {
    if (!this.session.loggedIn) {
      throw new ChargerCommandError('offline', `charger ${this.id} is not connected (${this.state.link})`);
    }
  }

  private onMessage(message: EvseMessage): void {
    if (message.type === 'status') this.lastCurrentState = message.currentState;
    if (message.type === 'version') {
      this.info = {
        ...this.info,
        firmwareVersion: message.softwareVersion,
        hardwareVersion: message.hardwareVersion,
      };
    }
    // 0x000A is a finished session; 0x0009 (the current record) may still be running.
    if (message.type === 'charge_record' && message.command === Cmd.UploadChargeRecord)
      this.emitChargeRecord(message);
    const next = reduceMessage(this.state, message, {
      now: this.clock.now(),
      errorBitOrder: this.errorBitOrder,
      pendingIdTag: this.pendingIdTag,
    });
    const opened = next.session?.chargerSessionId;
    if (opened && opened !== this.state.session?.chargerSessionId) this.pendingIdTag = null;
    if (next !== this.state) this.update(next);
  }

  private async onLoggedIn(
    info: LoginInfo | null,
    address: string | null,
    rssiDbm: number | null,
  ): Promise<void> {
    if (info) {
      this.info = {
        ...this.info,
        manufacturer: titleCase(info.brand) || 'Besen',
        model: info.model || 'BS20',
        hardwareVersion: info.hardwareVersion || null,
        phases: this.phasesOverride ?? info.phases,
        hardwareMaxCurrentA: info.maxCurrentA >= 6 ? info.maxCurrentA : this.info.hardwareMaxCurrentA,
        maxPowerW: info.maxPowerW || null,
      };
    }
    this.info = { ...this.info, serialNumber: this.session.serialNumber, bleAddress: address };
    this.update({ ...this.state, link: 'online', rssiDbm: rssiDbm ?? this.state.rssiDbm });
    await this.readSettings();
  }

  /** After every login: set the clock (it drifts, Q7), read version and settings, enforce the ceiling. */
  private async readSettings(): Promise<void> {
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['sync clock', () => this.syncClock()],
      ['read version', () => this.session.request(Cmd.GetVersion, encodeGetVersion())],
      [
        'read current',
        () =>
          this.session.request(
            Cmd.SetGetMaxCurrent,
            encodeMaxCurrentSetting({ action: SettingAction.Get, currentA: null }),
          ),
      ],
      [
        'read name',
        () =>
          this.session.request(
            Cmd.SetGetNickname,
            encodeNicknameRequest({ action: SettingAction.Get, name: null }),
          ),
      ],
      [
        'read language',
        () =>
          this.session.request(
            Cmd.SetGetLanguage,
            encodeLanguageSetting({ action: SettingAction.Get, language: null }),
          ),
      ],
      [
        'read temperature unit',
        () =>
          this.session.request(
            Cmd.SetGetTemperatureUnit,
            encodeTemperatureUnitSetting({ action: SettingAction.Get, unit: null }),
          ),
      ],
    ];
    for (const [what, step] of steps) {
      if (!this.session.loggedIn) return;
      try {
        await step();
      } catch (err) {
        // CDD boards never answer the version request (Q2); nothing here is fatal.
        this.log.debug({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
      }
    }
    const ceiling = this.getCurrentCeilingA();
    if (this.state.maxCurrentA !== null && this.state.maxCurrentA > ceiling && this.session.loggedIn) {
      this.log.warn(
        { chargerA: this.state.maxCurrentA, ceilingA: ceiling },
        'charger current above the configured maximum; lowering it',
      );
      await this.setMaxCurrent(ceiling).catch((err: unknown) =>
        this.log.warn({ err: String(err) }, 'could not lower the current'),
      );
    }
    void this.session.send(Cmd.RequestStatusRecord, encodeRequestStatusRecord(null));
  }

  private onPhase(phase: SessionPhase): void {
    const link =
      phase === 'logged_in'
        ? 'online'
        : phase === 'auth_failed'
          ? 'auth_failed'
          : phase === 'no_adapter'
            ? 'no_adapter'
            : phase === 'connecting' || phase === 'logging_in'
              ? 'connecting'
              : 'offline';
    if (link === 'online') return; // set by onLoggedIn once the device info is in
    if (link !== this.state.link) this.update({ ...this.state, link });
  }

  private update(next: ChargerState): void {
    const previous = this.state;
    const status = normaliseStatus(next, this.lastCurrentState);
    const candidate = next.status === 'scheduled' && status !== 'offline' ? next : { ...next, status };
    // Identical status frames every few seconds are not news for listeners.
    if (sameExceptTimestamp(previous, candidate)) {
      this.state = { ...previous, updatedAt: candidate.updatedAt };
      return;
    }
    this.state = candidate;
    for (const event of diffEvents(previous, this.state, this.clock.now())) this.emitEvent(event);
    this.events.emit('state', this.state, previous);
  }

  /** A finished session as the charger counted it: the session tracker closes sessions with it. */
  private emitChargeRecord(record: MessageOf<'charge_record'>): void {
    this.emitEvent({
      type: 'charge_record',
      at: this.clock.now(),
      data: {
        chargerSessionId: record.chargeId || null,
        startedAt: record.startTime.unixMs,
        endedAt: record.stopTime.unixMs,
        meterStartKwh: record.startEnergyCounterKwh,
        meterStopKwh: record.stopEnergyCounterKwh,
        energyKwh: record.sessionEnergyKwh,
        reason: record.stopReasonName,
      },
    });
  }

  private emitEvent(event: ChargerEvent): void {
    this.events.emit('event', event);
  }
}

/** Runs for every notification: compares in place instead of serializing both states. */
function sameExceptTimestamp(a: ChargerState, b: ChargerState): boolean {
  const keys = Object.keys(a) as Array<keyof ChargerState>;
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key === 'updatedAt' || isDeepStrictEqual(a[key], b[key]));
}

function checkUserId(userId: string): string {
  if (!/^[\x20-\x7e]{1,16}$/.test(userId)) {
    throw new ChargerCommandError(
      'invalid',
      'the user id written to the charger must be 1…16 ASCII characters',
    );
  }
  return userId;
}

function checkLimit(
  value: number | undefined,
  what: string,
  min: number,
  max: number,
  integer: boolean,
): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new ChargerCommandError(
      'out_of_range',
      `${what} must be ${integer ? 'a whole number ' : ''}between ${min} and ${max}`,
    );
  }
  return integer ? value : Math.round(value * 100) / 100;
}

/** `yyyyMMddHHmm` in local time plus 4 digits: the OEM app's shape (§4.6). */
function makeChargeId(now: number, timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  const suffix = String(Math.floor(now / 1000) % 10_000).padStart(4, '0');
  return `${get('year')}${get('month')}${get('day')}${get('hour')}${get('minute')}${suffix}`;
}

function describeStartRefusal(reply: MessageOf<'charge_start_response'>): string {
  if (reply.errorReason !== 0) return reply.errorReasonName.replaceAll('_', ' ');
  return reply.reservationResultName.replaceAll('_', ' ');
}

const toPascal = (s: string): string =>
  s
    .split(/[_\s-]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join('');
const toSnake = (s: string): string => s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
const titleCase = (s: string): string => (s ? s.charAt(0).toUpperCase() + s.slice(1).toLowerCase() : s);
