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
import { type Frame, serialToString } from '../protocol/frame.js';
import { decodeMessage, type EvseMessage } from '../protocol/message.js';
import { encodeLoginInfo } from '../protocol/messages/login.js';
import { encodePasswordError } from '../protocol/messages/password-error.js';
import type { ChargeRecordInput } from '../protocol/messages/record.js';
import { NICKNAME_PREFIX } from '../protocol/messages/settings.js';
import { TransportError, type TransportInfo } from '../transports/transport.js';
import { AppSession, type LoginPhase } from './app-session.js';
import type { CarOptions } from './car.js';
import { ChargePoint } from './charge-point.js';
import { ChargerWire, type SimulatorPeer } from './charger-wire.js';
import { DeviceClock } from './device-clock.js';
import {
  checkAmbientTemperature,
  resolveOptions,
  type SimConfig,
  type SimulatedBs20Options,
} from './options.js';
import { ChargeRecordQueue } from './record-queue.js';
import { answerRequest, type RequestContext, type SimSettings } from './requests.js';
import { type SimulatedBs20State, snapshotState } from './state.js';
import { encodeChargingStatusPayload, encodeStatusPayload } from './telemetry.js';

export type { LoginPhase } from './app-session.js';
export type { SimulatorPeer } from './charger-wire.js';

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
  /** A client frame the simulator failed to handle (a simulator bug); the frame is dropped. */
  error: [error: unknown, frame: Frame];
};

export class SimulatedBs20 {
  readonly events = new TypedEmitter<SimulatedBs20Events>();
  readonly config: SimConfig;
  readonly deviceClock: DeviceClock;
  private readonly clock: Clock;
  private readonly chargePoint: ChargePoint;
  private readonly wire: ChargerWire;
  private readonly records: ChargeRecordQueue;
  private readonly settings: SimSettings;
  private readonly session: AppSession;
  private readonly requestContext: RequestContext;
  private renameTimer: TimerHandle | undefined;
  private received: ReceivedFrame[] = [];
  private closed = false;

  constructor(options: SimulatedBs20Options = {}) {
    const config = resolveOptions(options);
    this.config = config;
    this.clock = config.clock;
    this.deviceClock = new DeviceClock(this.clock, config.timeZone, config.deviceClockSkewMs);
    this.chargePoint = new ChargePoint(config, this.deviceClock, (record) => this.sessionEnded(record));
    this.wire = new ChargerWire(config, (frame) => {
      // Client bytes are external data: nothing they contain may throw out of write().
      try {
        this.handleFrame(frame);
      } catch (error) {
        this.events.emit('error', error, frame);
      }
    });
    this.records = new ChargeRecordQueue(this.clock, config.recordReplayIntervalMs, (payload) =>
      this.send(Cmd.UploadChargeRecord, payload),
    );
    this.settings = {
      nickname: config.localName.slice(NICKNAME_PREFIX.length),
      language: 1,
      temperatureUnit: 1,
      offlineCharge: 0,
    };
    const chargePoint = this.chargePoint;
    this.session = new AppSession(config, {
      send: (command, payload) => this.send(command, payload),
      linkUp: () => this.wire.attached,
      loginInfoPayload: encodeLoginInfo({
        deviceType: config.deviceType,
        brand: 'BESEN',
        model: 'BS20',
        hardwareVersion: config.hardwareVersion,
        maxPowerW: config.maxPowerW,
        maxCurrentA: config.hardwareMaxCurrentA,
        hotline: 'WWW.EVSE.COM',
      }),
      statusPayload: () => encodeStatusPayload(chargePoint, config),
      chargingStatusPayload: () =>
        chargePoint.phase === 'charging' ? encodeChargingStatusPayload(chargePoint, this.clock.now()) : null,
      phaseChanged: (phase, reason) => {
        if (phase === 'none') this.records.pause();
        this.events.emit('login', phase, reason);
      },
    });
    this.requestContext = {
      config,
      chargePoint: this.chargePoint,
      deviceClock: this.deviceClock,
      settings: this.settings,
      reply: (command, payload) => void this.send(command, payload),
      renamed: () => this.scheduleRenameDrop(),
      recordAcked: (chargeId) => this.records.ack(chargeId),
    };
  }

  // ---- introspection --------------------------------------------------------------------------

  /** The advertised name, "ACP#" + nickname; follows a nickname SET. */
  get localName(): string {
    return NICKNAME_PREFIX + this.settings.nickname;
  }

  get loginPhase(): LoginPhase {
    return this.session.phase;
  }

  get loggedIn(): boolean {
    return this.session.phase === 'logged_in';
  }

  get connected(): boolean {
    return this.wire.attached;
  }

  /** The last `receivedFramesLimit` client frames, oldest first. */
  get receivedFrames(): readonly ReceivedFrame[] {
    const limit = this.config.receivedFramesLimit;
    return this.received.length > limit ? this.received.slice(-limit) : this.received;
  }

  get pendingChargeRecords(): number {
    return this.records.size;
  }

  get state(): SimulatedBs20State {
    return snapshotState(this.chargePoint, this.settings, {
      localName: this.localName,
      connected: this.connected,
      loginPhase: this.session.phase,
      pendingChargeRecords: this.records.size,
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
    this.chargePoint.ambientTemperatureC = checkAmbientTemperature(celsius);
  }

  // ---- fault injection ------------------------------------------------------------------------

  /** The charger drops the BLE link: the transport sees a `disconnect` event. */
  dropLink(reason = 'remote disconnect'): void {
    const peer = this.detach(reason);
    peer?.dropped(reason);
  }

  /** Sends nothing and ignores every write for `durationMs` (timers keep running). */
  goSilent(durationMs: number): void {
    this.wire.goSilent(durationMs);
  }

  /**
   * Puts junk (given bytes, or that many seeded-random bytes) into the outbound stream, packed and cut
   * like frame bytes so it can straddle notifications; with `insideNextFrame` it goes into the middle
   * of the next frame, which is then lost. Returns the junk.
   */
  sendGarbage(junk: Uint8Array | number, options: { insideNextFrame?: boolean } = {}): Uint8Array {
    return this.wire.garbage(junk, options);
  }

  /** Out of range: connecting fails with TransportError 'not_found'; a current link drops. */
  setUnreachable(unreachable: boolean): void {
    this.wire.setUnreachable(unreachable);
    if (unreachable) this.dropLink('charger out of range');
  }

  /** Flips a checksum byte of the next frame sent. */
  corruptNextFrame(): void {
    this.wire.corruptNextFrame();
  }

  // ---- the link, as transports see it ---------------------------------------------------------

  /** Attach a transport. Throws TransportError: 'not_found' when unreachable, 'connect_failed' when busy. */
  connectPeer(peer: SimulatorPeer): TransportInfo {
    if (this.closed) throw new TransportError('closed', 'the simulated charger is closed');
    this.wire.attach(peer, this.localName);
    this.events.emit('link', 'connected', 'client connected');
    this.session.linkUp();
    return {
      description: `simulated BS20 ${this.localName} (${serialToString(this.config.serial)})`,
      address: null,
      localName: this.localName,
      rssiDbm: -60,
    };
  }

  /** The transport closed its side. */
  disconnectPeer(peer: SimulatorPeer): void {
    if (this.wire.isAttached(peer)) this.detach('client disconnected');
  }

  /** Bytes the client wrote, in any cut: they go through the simulator's own reassembler. */
  receiveFromPeer(peer: SimulatorPeer, bytes: Uint8Array): void {
    this.wire.receive(peer, bytes);
  }

  /** Drops the link (with a `disconnect` event), ends the session and clears every timer. */
  close(): void {
    if (this.closed) return;
    this.dropLink('simulated charger closed');
    this.closed = true;
    this.session.close();
    this.chargePoint.close();
    this.records.pause();
    this.config.clock.clearTimeout(this.renameTimer);
  }

  // ---- internals ------------------------------------------------------------------------------

  private send(command: number, payload: Uint8Array): boolean {
    if (!this.wire.send(command, payload)) return false;
    this.events.emit('sent', command, payload);
    return true;
  }

  private handleFrame(frame: Frame): void {
    const message = decodeMessage(frame, { timeZone: this.config.timeZone });
    const pinOk = equalBytes(frame.password, this.config.password);
    const entry: ReceivedFrame = { atMs: this.clock.now(), frame, message, pinOk };
    this.received.push(entry);
    const limit = this.config.receivedFramesLimit;
    // Trim in batches so a week-long soak stays O(1) per frame.
    if (this.received.length >= 2 * limit) this.received.splice(0, this.received.length - limit);
    this.events.emit('received', entry);
    if (!pinOk) {
      // Q15: every frame with a wrong PIN gets 0x0155 and nothing else.
      this.send(Cmd.PasswordError, encodePasswordError({ code: 0 }));
      return;
    }
    switch (message.type) {
      case 'request_login':
        this.session.loginRequested();
        return;
      case 'login_confirm':
        // Then any charge record still waiting for its ack.
        if (this.session.loginConfirmed()) this.records.push();
        return;
      case 'heading_response':
        this.session.headingAnswered();
        return;
      default:
        // Not answered before login (all BLE references wait for the beacon and log in first).
        if (this.loggedIn) answerRequest(this.requestContext, message);
    }
  }

  private detach(reason: string): SimulatorPeer | null {
    const peer = this.wire.detach();
    if (!peer) return null;
    this.clock.clearTimeout(this.renameTimer);
    this.session.linkDown();
    this.events.emit('link', 'disconnected', reason);
    return peer;
  }

  private scheduleRenameDrop(): void {
    this.clock.clearTimeout(this.renameTimer);
    this.renameTimer = this.clock.setTimeout(() => {
      this.renameTimer = undefined;
      this.dropLink('nickname changed');
    }, this.config.nameChangeDropDelayMs);
  }

  private sessionEnded(record: ChargeRecordInput): void {
    if (this.config.chargeRecords) {
      this.records.add(record);
      if (this.loggedIn) this.records.push();
    }
    this.events.emit('session_ended', record);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
