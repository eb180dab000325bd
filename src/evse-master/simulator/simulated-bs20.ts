/**
 * A simulated Besen BS20 speaking the exact EVSE Master bytes (§8): beacons until a client logs in
 * with the PIN, then headings, status and charging status on a cadence, answers to requests, charge
 * records until acknowledged, and a session that drops when headings go unanswered. One link at a
 * time (SimulatedBleLink); the charge point (car, energy, sessions) runs whether or not one is up.
 *
 * Every frame is built and parsed with the protocol codec. Deterministic under ManualClock; after
 * close() (or with no link and no session) it holds no timers.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { TypedEmitter } from '../../core/emitter.js';
import { Cmd } from '../protocol/commands.js';
import { CHARGER_PASSWORD, encodeFrame, type Frame, serialToString } from '../protocol/frame.js';
import { decodeMessage, type EvseMessage } from '../protocol/message.js';
import { encodeLoginInfo } from '../protocol/messages/login.js';
import { encodePasswordError } from '../protocol/messages/password-error.js';
import { type ChargeRecordInput, encodeChargeRecord } from '../protocol/messages/record.js';
import { NICKNAME_PREFIX } from '../protocol/messages/settings.js';
import { FrameReassembler } from '../protocol/reassembler.js';
import { TransportError, type TransportInfo } from '../transports/transport.js';
import { type CarOptions, ChargePoint } from './charge-point.js';
import { DeviceClock } from './device-clock.js';
import { createRandomBytes, NotificationStream } from './notification-stream.js';
import { resolveOptions, type SimConfig, type SimulatedBs20Options } from './options.js';
import { answerRequest, type RequestContext, type SimSettings } from './requests.js';
import { type SimulatedBs20State, snapshotState } from './state.js';
import { encodeChargingStatusPayload, encodeStatusPayload } from './telemetry.js';

/** What a transport hands the simulator when it connects. */
export interface SimulatorPeer {
  /** One BLE notification of the charger's byte stream. */
  deliver(chunk: Uint8Array): void;
  /** The charger dropped the link (not called when the peer disconnects itself). */
  dropped(reason: string): void;
}

/** none: beaconing · authenticated: PIN accepted (0x0002 sent) · logged_in: after 0x8001. */
export type LoginPhase = 'none' | 'authenticated' | 'logged_in';

export interface ReceivedFrame {
  atMs: number;
  frame: Frame;
  message: EvseMessage;
  /** False when the password field did not hold the PIN (answered with 0x0155, nothing else). */
  pinOk: boolean;
}

export type SimulatedBs20Events = {
  /** Every client frame the simulator decoded, right or wrong PIN. */
  received: [frame: ReceivedFrame];
  /** Every frame put on the wire (not those swallowed by goSilent). */
  sent: [command: number, payload: Uint8Array];
  login: [phase: LoginPhase, reason: string];
  link: [state: 'connected' | 'disconnected', reason: string];
  session_ended: [record: ChargeRecordInput];
};

interface ActiveLink {
  peer: SimulatorPeer;
  stream: NotificationStream;
  reassembler: FrameReassembler;
}

/** Un-acked records kept at most (oldest dropped first). */
const MAX_PENDING_RECORDS = 20;

export class SimulatedBs20 {
  readonly events = new TypedEmitter<SimulatedBs20Events>();
  readonly config: SimConfig;
  readonly deviceClock: DeviceClock;
  private readonly clock: Clock;
  private readonly chargePoint: ChargePoint;
  private readonly settings: SimSettings;
  private readonly loginInfoPayload: Uint8Array;
  private readonly randomBytes: (length: number) => Uint8Array;
  private readonly requestContext: RequestContext;
  private link: ActiveLink | null = null;
  private phase: LoginPhase = 'none';
  private lastHeadingAckMs = 0;
  private readonly timers: Record<
    'beacon' | 'heading' | 'status' | 'chargingStatus' | 'deadline' | 'record' | 'rename',
    TimerHandle | undefined
  > = {
    beacon: undefined,
    heading: undefined,
    status: undefined,
    chargingStatus: undefined,
    deadline: undefined,
    record: undefined,
    rename: undefined,
  };
  private pendingRecords: Array<{ chargeId: string; payload: Uint8Array }> = [];
  private received: ReceivedFrame[] = [];
  private silentUntilMs = Number.NEGATIVE_INFINITY;
  private unreachable = false;
  private corruptNext = false;
  private junkInsideNext: Uint8Array | null = null;
  private closed = false;

  constructor(options: SimulatedBs20Options = {}) {
    this.config = resolveOptions(options);
    this.clock = this.config.clock;
    this.deviceClock = new DeviceClock(this.clock, this.config.timeZone, this.config.deviceClockSkewMs);
    this.chargePoint = new ChargePoint(this.config, this.deviceClock, (record) => this.sessionEnded(record));
    this.settings = {
      nickname: this.config.localName.slice(NICKNAME_PREFIX.length),
      language: 1,
      temperatureUnit: 1,
      offlineCharge: 0,
    };
    this.loginInfoPayload = encodeLoginInfo({
      deviceType: this.config.deviceType,
      brand: 'BESEN',
      model: 'BS20',
      hardwareVersion: this.config.hardwareVersion,
      maxPowerW: this.config.maxPowerW,
      maxCurrentA: this.config.hardwareMaxCurrentA,
      hotline: 'WWW.EVSE.COM',
    });
    this.randomBytes = createRandomBytes(this.config.seed);
    this.requestContext = {
      config: this.config,
      chargePoint: this.chargePoint,
      deviceClock: this.deviceClock,
      settings: this.settings,
      reply: (command, payload) => this.send(command, payload),
      renamed: () => this.scheduleRenameDrop(),
      recordAcked: (chargeId) => this.recordAcked(chargeId),
    };
  }

  // ---- introspection --------------------------------------------------------------------------

  /** The advertised name, "ACP#" + nickname; follows a nickname SET. */
  get localName(): string {
    return NICKNAME_PREFIX + this.settings.nickname;
  }

  get loginPhase(): LoginPhase {
    return this.phase;
  }

  get loggedIn(): boolean {
    return this.phase === 'logged_in';
  }

  get connected(): boolean {
    return this.link !== null;
  }

  /** The last `receivedFramesLimit` client frames, oldest first. */
  get receivedFrames(): readonly ReceivedFrame[] {
    const limit = this.config.receivedFramesLimit;
    return this.received.length > limit ? this.received.slice(-limit) : this.received;
  }

  get pendingChargeRecords(): number {
    return this.pendingRecords.length;
  }

  get state(): SimulatedBs20State {
    return snapshotState(this.chargePoint, this.settings, {
      localName: this.localName,
      connected: this.connected,
      loginPhase: this.phase,
      pendingChargeRecords: this.pendingRecords.length,
      nowMs: this.clock.now(),
    });
  }

  // ---- the physical world ---------------------------------------------------------------------

  plugIn(car: CarOptions = {}): void {
    this.chargePoint.plugIn(car);
  }

  /** While charging this ends the session (stop reason 17, gun unplugged). */
  unplug(): void {
    this.chargePoint.unplug();
  }

  setCarDemand(demandA: number): void {
    this.chargePoint.setCarDemand(demandA);
  }

  /** Sets error bit `code` (LSB = code 0, emproto mapping); charging stops. */
  raiseError(code: number): void {
    this.chargePoint.raiseError(code);
  }

  clearError(code: number): void {
    this.chargePoint.clearError(code);
  }

  setAmbientTemperature(celsius: number): void {
    this.chargePoint.ambientTemperatureC = celsius;
  }

  // ---- fault injection ------------------------------------------------------------------------

  /** The charger drops the BLE link: the transport sees a `disconnect` event. */
  dropLink(reason = 'remote disconnect'): void {
    const link = this.link;
    if (!link) return;
    this.detach(reason);
    link.peer.dropped(reason);
  }

  /** Sends nothing and ignores every write for `durationMs` (timers keep running). */
  goSilent(durationMs: number): void {
    this.silentUntilMs = Math.max(this.silentUntilMs, this.clock.now() + Math.max(0, durationMs));
  }

  /**
   * Puts junk into the outbound stream (packed and cut like frame bytes, so it can straddle
   * notifications) or, with `insideNextFrame`, into the middle of the next frame, which is then lost.
   * Returns the junk bytes.
   */
  sendGarbage(junk: Uint8Array | number, options: { insideNextFrame?: boolean } = {}): Uint8Array {
    const bytes = typeof junk === 'number' ? this.randomBytes(junk) : junk.slice();
    if (options.insideNextFrame) this.junkInsideNext = bytes;
    else if (this.link && !this.isSilent()) this.link.stream.push(bytes);
    return bytes;
  }

  /** Out of range: connecting fails with TransportError 'not_found'; a current link drops. */
  setUnreachable(unreachable: boolean): void {
    this.unreachable = unreachable;
    if (unreachable) this.dropLink('charger out of range');
  }

  /** Flips a checksum byte of the next frame sent. */
  corruptNextFrame(): void {
    this.corruptNext = true;
  }

  // ---- the link, as transports see it ---------------------------------------------------------

  /** Attach a transport. Throws TransportError: 'not_found' when unreachable, 'connect_failed' when busy. */
  connectPeer(peer: SimulatorPeer): TransportInfo {
    if (this.closed) throw new TransportError('closed', 'the simulated charger is closed');
    if (this.unreachable) throw new TransportError('not_found', `${this.localName} is out of range`);
    if (this.link) {
      throw new TransportError(
        'connect_failed',
        `${this.localName} already has a connection (one central at a time)`,
      );
    }
    this.link = {
      peer,
      stream: new NotificationStream(this.config.notificationSize, (chunk) => peer.deliver(chunk)),
      // Cleared on every connect, like a real UART buffer after a reset of the link.
      reassembler: new FrameReassembler(),
    };
    this.events.emit('link', 'connected', 'client connected');
    if (this.phase === 'none') this.scheduleBeacon(this.config.firstBeaconDelayMs);
    return {
      description: `simulated BS20 ${this.localName} (${serialToString(this.config.serial)})`,
      address: null,
      localName: this.localName,
      rssiDbm: -60,
    };
  }

  /** The transport closed its side. */
  disconnectPeer(peer: SimulatorPeer): void {
    if (this.link?.peer === peer) this.detach('client disconnected');
  }

  /** Bytes the client wrote (any cut: they go through the simulator's own reassembler). */
  receiveFromPeer(peer: SimulatorPeer, bytes: Uint8Array): void {
    const link = this.link;
    if (!link || link.peer !== peer || this.isSilent()) return;
    for (const frame of link.reassembler.push(bytes)) {
      if (this.link !== link) return;
      this.handleFrame(frame);
    }
  }

  /** Drops the link (with a `disconnect` event), ends the session and clears every timer. */
  close(): void {
    if (this.closed) return;
    this.dropLink('simulated charger closed');
    this.closed = true;
    this.endSession('simulated charger closed');
    this.chargePoint.close();
    for (const key of Object.keys(this.timers) as Array<keyof typeof this.timers>) this.stopTimer(key);
  }

  // ---- internals ------------------------------------------------------------------------------

  private isSilent(): boolean {
    return this.clock.now() < this.silentUntilMs;
  }

  private send(command: number, payload: Uint8Array): void {
    const link = this.link;
    if (!link || this.isSilent()) return;
    let bytes = encodeFrame({
      keyType: 0,
      serial: this.config.serial,
      password: CHARGER_PASSWORD,
      command,
      payload,
    });
    if (this.corruptNext) {
      this.corruptNext = false;
      bytes[bytes.length - 3]! ^= 0xff;
    }
    const junk = this.junkInsideNext;
    if (junk) {
      this.junkInsideNext = null;
      const middle = bytes.length >> 1;
      const spliced = new Uint8Array(bytes.length + junk.length);
      spliced.set(bytes.subarray(0, middle));
      spliced.set(junk, middle);
      spliced.set(bytes.subarray(middle), middle + junk.length);
      bytes = spliced;
    }
    link.stream.push(bytes);
    this.events.emit('sent', command, payload);
  }

  private handleFrame(frame: Frame): void {
    const message = decodeMessage(frame, { timeZone: this.config.timeZone });
    const pinOk = equalBytes(frame.password, this.config.password);
    const entry: ReceivedFrame = { atMs: this.clock.now(), frame, message, pinOk };
    this.received.push(entry);
    const limit = this.config.receivedFramesLimit;
    if (this.received.length >= 2 * limit) this.received.splice(0, this.received.length - limit);
    this.events.emit('received', entry);
    if (!pinOk) {
      // Q15: every frame with a wrong PIN gets 0x0155 and nothing else.
      this.send(Cmd.PasswordError, encodePasswordError({ code: 0 }));
      return;
    }
    switch (message.type) {
      case 'request_login':
        this.send(Cmd.LoginResponse, this.loginInfoPayload);
        if (this.phase === 'none') {
          this.setPhase('authenticated', 'PIN accepted');
          this.stopTimer('beacon');
          this.lastHeadingAckMs = this.clock.now();
          this.armDeadline();
        }
        return;
      case 'login_confirm':
        // Strict: a confirm is only taken after an accepted 0x8002 (or within a held session).
        if (this.phase !== 'none') this.beginLoggedIn();
        return;
      case 'heading_response':
        if (this.phase !== 'none') this.lastHeadingAckMs = this.clock.now();
        return;
      default:
        // Not answered before login (all BLE references wait for the beacon and log in first).
        if (this.phase === 'logged_in') answerRequest(this.requestContext, message);
    }
  }

  private beginLoggedIn(): void {
    const { config } = this;
    this.lastHeadingAckMs = this.clock.now();
    this.armDeadline();
    for (const key of ['heading', 'status', 'chargingStatus'] as const) this.stopTimer(key);
    this.timers.heading = this.clock.setInterval(
      () => this.send(Cmd.Heading, new Uint8Array(0)),
      config.headingIntervalMs,
    );
    this.timers.status = this.clock.setInterval(() => this.sendStatus(), config.statusIntervalMs);
    this.timers.chargingStatus = this.clock.setInterval(() => {
      if (this.chargePoint.phase === 'charging') {
        this.send(Cmd.ChargingStatus, encodeChargingStatusPayload(this.chargePoint, this.clock.now()));
      }
    }, config.chargingStatusIntervalMs);
    if (this.phase !== 'logged_in') this.setPhase('logged_in', 'login confirmed');
    // A status right after login, as in the evseMQTT log (B6–B8).
    this.sendStatus();
    this.pushRecords();
  }

  private sendStatus(): void {
    this.send(Cmd.Status, encodeStatusPayload(this.chargePoint, this.config));
  }

  private setPhase(phase: LoginPhase, reason: string): void {
    this.phase = phase;
    this.events.emit('login', phase, reason);
  }

  /** One timer checks the heading deadline; answers only move the deadline (no timer churn). */
  private armDeadline(): void {
    this.stopTimer('deadline');
    const dueInMs = this.lastHeadingAckMs + this.config.sessionDropAfterMs - this.clock.now();
    this.timers.deadline = this.clock.setTimeout(
      () => {
        this.timers.deadline = undefined;
        if (this.clock.now() - this.lastHeadingAckMs >= this.config.sessionDropAfterMs) {
          this.endSession('no heading response');
        } else this.armDeadline();
      },
      Math.max(0, dueInMs),
    );
  }

  /** The app session ends; beacons resume if a client is still connected. */
  private endSession(reason: string): void {
    for (const key of ['heading', 'status', 'chargingStatus', 'deadline', 'record'] as const)
      this.stopTimer(key);
    if (this.phase === 'none') return;
    this.setPhase('none', reason);
    if (this.link && !this.closed) this.scheduleBeacon(this.config.firstBeaconDelayMs);
  }

  private scheduleBeacon(delayMs: number): void {
    this.stopTimer('beacon');
    this.timers.beacon = this.clock.setTimeout(() => {
      this.timers.beacon = undefined;
      if (!this.link || this.phase !== 'none') return;
      this.send(Cmd.LoginBeacon, this.loginInfoPayload);
      this.scheduleBeacon(this.config.beaconIntervalMs);
    }, delayMs);
  }

  private detach(reason: string): void {
    const link = this.link;
    if (!link) return;
    link.stream.close();
    this.link = null;
    this.stopTimer('beacon');
    this.stopTimer('rename');
    if (!this.config.keepSessionAcrossReconnect) this.endSession('link lost');
    this.events.emit('link', 'disconnected', reason);
  }

  private scheduleRenameDrop(): void {
    this.stopTimer('rename');
    this.timers.rename = this.clock.setTimeout(() => {
      this.timers.rename = undefined;
      this.dropLink('nickname changed');
    }, this.config.nameChangeDropDelayMs);
  }

  private sessionEnded(record: ChargeRecordInput): void {
    if (this.config.chargeRecords) {
      this.pendingRecords.push({ chargeId: record.chargeId, payload: encodeChargeRecord(record) });
      if (this.pendingRecords.length > MAX_PENDING_RECORDS) this.pendingRecords.shift();
      if (this.phase === 'logged_in') this.pushRecords();
    }
    this.events.emit('session_ended', record);
  }

  /** Sends the oldest un-acked record now and keeps replaying it until 0x800A (Q14). */
  private pushRecords(): void {
    if (this.phase !== 'logged_in') return;
    const every = this.config.recordReplayIntervalMs;
    if (every === 0) {
      // Replay off: each record is pushed once, when a client can receive it.
      if (this.link && !this.isSilent()) {
        for (const record of this.pendingRecords.splice(0)) this.send(Cmd.UploadChargeRecord, record.payload);
      }
      return;
    }
    this.sendOldestRecord();
    if (this.pendingRecords.length > 0 && !this.timers.record) {
      this.timers.record = this.clock.setInterval(() => this.sendOldestRecord(), every);
    }
  }

  private sendOldestRecord(): void {
    const oldest = this.pendingRecords[0];
    if (!oldest || this.phase !== 'logged_in') {
      this.stopTimer('record');
      return;
    }
    this.send(Cmd.UploadChargeRecord, oldest.payload);
  }

  private recordAcked(chargeId: string | null): void {
    const index = chargeId ? this.pendingRecords.findIndex((r) => r.chargeId === chargeId) : -1;
    this.pendingRecords.splice(Math.max(index, 0), 1);
    if (this.pendingRecords.length === 0) this.stopTimer('record');
  }

  private stopTimer(key: keyof typeof this.timers): void {
    const handle = this.timers[key];
    if (!handle) return;
    // Intervals and timeouts share one id space in both clocks; clearInterval covers either.
    this.clock.clearInterval(handle);
    this.timers[key] = undefined;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
