/**
 * The link-level session with one BS20: connect, log in with the PIN, answer keep-alives, detect a
 * stale link and reconnect with backoff, and run one command at a time with a timeout.
 *
 * It knows the protocol's session rules (§3) but nothing about what the telemetry means: it hands
 * every decoded message to its listeners (EvseMasterCharger builds the charger state from them).
 */

import { ChargerCommandError } from '../core/charger.js';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.js';
import { TypedEmitter } from '../core/emitter.js';
import { type Logger, silentLogger } from '../log.js';
import { Cmd, commandHex, commandName } from './protocol/commands.js';
import { encodeFrame, type Frame, pinToPassword, SERIAL_LENGTH, serialToString } from './protocol/frame.js';
import { decodeMessage, type EvseMessage } from './protocol/message.js';
import {
  encodeChargingStatusAck,
  encodeHeadingResponse,
  encodeStatusAck,
} from './protocol/messages/keepalive.js';
import {
  decodeLoginInfo,
  encodeLoginConfirm,
  encodeRequestLogin,
  type LoginInfo,
} from './protocol/messages/login.js';
import { FrameReassembler } from './protocol/reassembler.js';
import { type Transport, TransportError, type TransportInfo } from './transports/transport.js';

export type SessionPhase =
  | 'idle'
  | 'connecting'
  | 'logging_in'
  | 'logged_in'
  | 'reconnect_wait'
  | 'auth_failed'
  | 'no_adapter'
  | 'closed';

export interface EvseSessionOptions {
  transport: Transport;
  /** The charger's 6-digit PIN (never logged). */
  pin: string;
  clock?: Clock;
  logger?: Logger;
  timeZone?: string;
  /** No frame for this long → the link is stale: drop it and reconnect (evseMQTT uses 35 s). */
  staleAfterMs?: number;
  /** How long one command waits for its answer. */
  commandTimeoutMs?: number;
  /** Give up on a login that does not complete in this time and reconnect. */
  loginTimeoutMs?: number;
  /** Without a beacon this soon after connecting, ask to log in anyway (the charger may hold an old session, Q5). */
  proactiveLoginAfterMs?: number;
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** Wait after a wrong PIN before trying again: retrying fast cannot help and floods the charger. */
  authFailedRetryMs?: number;
}

/** Running totals since the session was created, for metrics. */
export interface EvseSessionCounters {
  /** Logins after the first one: each is the link coming back after a loss. */
  reconnects: number;
  /** Links lost (dropped by the charger, stale, login timeout, wrong PIN). */
  linkLosses: number;
  framesReceived: number;
  /** Frame candidates whose tail or checksum was wrong. */
  badFrames: number;
  /** Bytes thrown away while looking for frames (junk, broken frames, leftovers at reconnect). */
  discardedBytes: number;
  /** Frames with a valid checksum whose payload made no sense. */
  malformedMessages: number;
  /** Requests written to the charger (acks not counted). */
  commandsSent: number;
  /** Requests that could not be written or were cut off by a lost or closed link. */
  commandsFailed: number;
  commandsTimedOut: number;
}

export type EvseSessionEvents = {
  phase: [phase: SessionPhase, detail: string];
  /** Every decoded frame from the charger, in order. */
  message: [message: EvseMessage, frame: Frame];
  /** Login complete; device info from the beacon/response. */
  logged_in: [info: LoginInfo | null, link: TransportInfo];
  /** The link went down (stale, disconnected, login timeout); a reconnect is scheduled. */
  link_lost: [reason: string];
  auth_failed: [];
  rssi: [dbm: number];
};

interface PendingCommand {
  command: number;
  payload: Uint8Array;
  responseCommand: number;
  timeoutMs: number;
  resolve: (message: EvseMessage) => void;
  reject: (error: Error) => void;
}

const DEFAULTS = {
  staleAfterMs: 35_000,
  commandTimeoutMs: 5_000,
  loginTimeoutMs: 30_000,
  proactiveLoginAfterMs: 4_000,
  reconnectMinDelayMs: 1_000,
  reconnectMaxDelayMs: 60_000,
  authFailedRetryMs: 10 * 60_000,
};

export class EvseSession {
  readonly events = new TypedEmitter<EvseSessionEvents>();
  private readonly transport: Transport;
  private readonly password: Uint8Array;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timeZone: string | undefined;
  private readonly opts: typeof DEFAULTS;
  private readonly reassembler = new FrameReassembler();

  private phaseValue: SessionPhase = 'idle';
  /** The charger's serial, echoed back in our frames; learnt from its first frame and kept across reconnects. */
  private serial: Uint8Array = new Uint8Array(SERIAL_LENGTH);
  private deviceInfo: LoginInfo | null = null;
  private linkInfo: TransportInfo | null = null;
  private failures = 0;
  private connectAbort: AbortController | null = null;
  private loginRequested = false;
  private staleTimer: TimerHandle | undefined;
  private loginTimer: TimerHandle | undefined;
  private proactiveTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private commandTimer: TimerHandle | undefined;
  private queue: PendingCommand[] = [];
  private inFlight: PendingCommand | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly stats = {
    logins: 0,
    linkLosses: 0,
    malformedMessages: 0,
    commandsSent: 0,
    commandsFailed: 0,
    commandsTimedOut: 0,
  };

  constructor(options: EvseSessionOptions) {
    this.transport = options.transport;
    this.password = pinToPassword(options.pin);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger();
    this.timeZone = options.timeZone;
    this.opts = {
      staleAfterMs: options.staleAfterMs ?? DEFAULTS.staleAfterMs,
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      loginTimeoutMs: options.loginTimeoutMs ?? DEFAULTS.loginTimeoutMs,
      proactiveLoginAfterMs: options.proactiveLoginAfterMs ?? DEFAULTS.proactiveLoginAfterMs,
      reconnectMinDelayMs: options.reconnectMinDelayMs ?? DEFAULTS.reconnectMinDelayMs,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
      authFailedRetryMs: options.authFailedRetryMs ?? DEFAULTS.authFailedRetryMs,
    };
  }

  get phase(): SessionPhase {
    return this.phaseValue;
  }

  get loggedIn(): boolean {
    return this.phaseValue === 'logged_in';
  }

  /** Device info from the last login (survives reconnects). */
  get info(): LoginInfo | null {
    return this.deviceInfo;
  }

  get serialNumber(): string | null {
    return this.serial.some((b) => b !== 0) ? serialToString(this.serial) : null;
  }

  counters(): EvseSessionCounters {
    const { logins, ...rest } = this.stats;
    const wire = this.reassembler.stats;
    return {
      ...rest,
      reconnects: Math.max(0, logins - 1),
      framesReceived: wire.frames,
      badFrames: wire.badFrames,
      discardedBytes: wire.discardedBytes,
    };
  }

  /** Start connecting; the session then keeps itself connected until close(). */
  open(): void {
    if (this.phaseValue !== 'idle' && this.phaseValue !== 'closed') return;
    this.unsubscribe.push(
      this.transport.events.on('data', (chunk) => this.onData(chunk)),
      this.transport.events.on('disconnect', (reason) => this.linkLost(`disconnected: ${reason}`)),
      this.transport.events.on('rssi', (dbm) => this.events.emit('rssi', dbm)),
    );
    void this.connect();
  }

  async close(): Promise<void> {
    if (this.phaseValue === 'closed') return;
    this.setPhase('closed', 'closed by us');
    this.connectAbort?.abort();
    this.clearLinkTimers();
    this.clock.clearTimeout(this.reconnectTimer);
    this.failAllCommands(new ChargerCommandError('offline', 'the charger link was closed'));
    for (const off of this.unsubscribe.splice(0)) off();
    await this.transport.close();
  }

  /**
   * Send a request and wait for its answer (the same command id without bit 15). One command is on
   * the wire at a time; the others wait in order.
   */
  request(command: number, payload: Uint8Array, options: { timeoutMs?: number } = {}): Promise<EvseMessage> {
    if (!this.loggedIn) {
      return Promise.reject(
        new ChargerCommandError(
          'offline',
          `the charger is not connected (${this.phaseValue.replace('_', ' ')})`,
        ),
      );
    }
    return new Promise<EvseMessage>((resolve, reject) => {
      this.queue.push({
        command,
        payload,
        responseCommand: command & 0x7fff,
        timeoutMs: options.timeoutMs ?? this.opts.commandTimeoutMs,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Send a frame that gets no answer (acks). Failures are logged, not thrown. */
  async send(command: number, payload: Uint8Array): Promise<void> {
    try {
      await this.write(command, payload);
    } catch (err) {
      this.log.warn({ command: commandHex(command), err: errorText(err) }, 'write failed');
    }
  }

  private async connect(): Promise<void> {
    if (this.phaseValue === 'closed') return;
    this.setPhase('connecting', 'opening the link');
    const abort = new AbortController();
    this.connectAbort = abort;
    try {
      this.linkInfo = await this.transport.connect(abort.signal);
    } catch (err) {
      if (this.isClosed()) return;
      const noAdapter = err instanceof TransportError && err.code === 'no_adapter';
      this.log.warn(
        { err: errorText(err) },
        noAdapter ? 'no Bluetooth adapter' : 'could not connect to the charger',
      );
      this.scheduleReconnect(noAdapter ? 'no_adapter' : 'reconnect_wait', errorText(err), noAdapter);
      return;
    } finally {
      if (this.connectAbort === abort) this.connectAbort = null;
    }
    if (this.isClosed()) {
      await this.transport.close();
      return;
    }
    this.reassembler.reset();
    this.loginRequested = false;
    this.setPhase('logging_in', `connected to ${this.linkInfo.description}`);
    this.touch();
    this.loginTimer = this.clock.setTimeout(
      () => this.dropLink(`login did not complete within ${this.opts.loginTimeoutMs / 1000} s`),
      this.opts.loginTimeoutMs,
    );
    this.proactiveTimer = this.clock.setTimeout(() => {
      if (this.phaseValue === 'logging_in' && !this.loginRequested) {
        this.log.debug('no login beacon yet; asking to log in');
        this.requestLogin();
      }
    }, this.opts.proactiveLoginAfterMs);
  }

  private onData(chunk: Uint8Array): void {
    if (this.phaseValue !== 'logging_in' && this.phaseValue !== 'logged_in') return;
    for (const frame of this.reassembler.push(chunk)) {
      // A frame handler may drop the link (wrong PIN); what follows in this chunk is stale.
      if (this.phaseValue !== 'logging_in' && this.phaseValue !== 'logged_in') return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Frame): void {
    this.touch();
    if (frame.command < 0x8000 && frame.serial.some((b) => b !== 0)) this.serial = frame.serial.slice();
    const message = decodeMessage(frame, this.timeZone === undefined ? {} : { timeZone: this.timeZone });
    if (message.type === 'malformed') {
      this.stats.malformedMessages++;
      this.log.warn(
        { command: commandHex(frame.command), error: message.error },
        'malformed message ignored',
      );
    } else {
      this.log.trace({ command: commandName(frame.command) }, 'frame');
    }

    switch (frame.command) {
      case Cmd.LoginBeacon:
        if (this.phaseValue === 'logging_in') this.requestLogin();
        break;
      case Cmd.LoginResponse:
        this.completeLogin(frame);
        break;
      case Cmd.PasswordError:
        if (this.phaseValue === 'logging_in' && this.loginRequested) {
          this.authFailed();
          return;
        }
        this.log.warn('the charger answered a frame with "password error"');
        break;
      case Cmd.Status:
        void this.send(Cmd.StatusAck, encodeStatusAck(1));
        break;
      case Cmd.ChargingStatus:
        void this.send(Cmd.ChargingStatusAck, encodeChargingStatusAck(0));
        break;
      case Cmd.Heading:
        // Always answer: after a short drop the charger may still hold our old session (Q4/Q5).
        void this.send(Cmd.HeadingResponse, encodeHeadingResponse(1));
        if (this.phaseValue === 'logging_in' && !this.loginRequested) this.requestLogin();
        break;
    }

    this.settleCommand(message);
    this.events.emit('message', message, frame);
  }

  private requestLogin(): void {
    this.loginRequested = true;
    void this.send(Cmd.RequestLogin, encodeRequestLogin(null));
  }

  private completeLogin(frame: Frame): void {
    if (this.phaseValue !== 'logging_in') return;
    try {
      this.deviceInfo = decodeLoginInfo(frame.payload);
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'login response without device info; continuing');
    }
    void this.send(Cmd.LoginConfirm, encodeLoginConfirm(1));
    this.clock.clearTimeout(this.loginTimer);
    this.clock.clearTimeout(this.proactiveTimer);
    this.failures = 0;
    this.stats.logins++;
    this.setPhase('logged_in', 'logged in');
    this.log.info(
      { serial: this.serialNumber, model: this.deviceInfo?.model, phases: this.deviceInfo?.phases },
      'logged in to the charger',
    );
    this.events.emit('logged_in', this.deviceInfo, this.linkInfo ?? emptyLinkInfo());
  }

  private authFailed(): void {
    this.log.error(
      'the charger rejected the PIN: check `pin` for this charger in the configuration (the PIN is shown in the EVSE Master app)',
    );
    this.events.emit('auth_failed');
    this.stats.linkLosses++;
    this.clearLinkTimers();
    this.failAllCommands(new ChargerCommandError('offline', 'the charger rejected the PIN'));
    void this.transport.close();
    this.scheduleReconnect('auth_failed', 'wrong PIN', false, this.opts.authFailedRetryMs);
  }

  /** Close the link ourselves (stale, login timeout) and reconnect. */
  private dropLink(reason: string): void {
    if (this.phaseValue !== 'logging_in' && this.phaseValue !== 'logged_in') return;
    this.log.warn({ reason }, 'dropping the charger link');
    void this.transport.close();
    this.linkLost(reason);
  }

  private linkLost(reason: string): void {
    if (this.phaseValue !== 'logging_in' && this.phaseValue !== 'logged_in') return;
    this.stats.linkLosses++;
    this.clearLinkTimers();
    this.reassembler.reset();
    this.failAllCommands(new ChargerCommandError('offline', `the charger link was lost (${reason})`));
    this.events.emit('link_lost', reason);
    this.scheduleReconnect('reconnect_wait', reason, false);
  }

  private scheduleReconnect(phase: SessionPhase, reason: string, slow: boolean, fixedDelayMs?: number): void {
    if (this.phaseValue === 'closed') return;
    const delay =
      fixedDelayMs ??
      (slow
        ? this.opts.reconnectMaxDelayMs
        : Math.min(this.opts.reconnectMaxDelayMs, this.opts.reconnectMinDelayMs * 2 ** this.failures));
    this.failures++;
    this.setPhase(phase, `${reason}; retrying in ${Math.round(delay / 1000)} s`);
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => void this.connect(), delay);
  }

  private touch(): void {
    this.clock.clearTimeout(this.staleTimer);
    this.staleTimer = this.clock.setTimeout(
      () => this.dropLink(`no data from the charger for ${this.opts.staleAfterMs / 1000} s`),
      this.opts.staleAfterMs,
    );
  }

  private pump(): void {
    if (this.inFlight || !this.loggedIn) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    this.stats.commandsSent++;
    this.commandTimer = this.clock.setTimeout(() => {
      if (this.inFlight !== next) return;
      this.inFlight = null;
      this.stats.commandsTimedOut++;
      next.reject(
        new ChargerCommandError(
          'timeout',
          `the charger did not answer ${commandName(next.command)} within ${next.timeoutMs / 1000} s`,
        ),
      );
      this.pump();
    }, next.timeoutMs);
    this.write(next.command, next.payload).catch((err: unknown) => {
      if (this.inFlight !== next) return;
      this.clock.clearTimeout(this.commandTimer);
      this.inFlight = null;
      this.stats.commandsFailed++;
      next.reject(new ChargerCommandError('offline', `could not send the command: ${errorText(err)}`));
      this.pump();
    });
  }

  private settleCommand(message: EvseMessage): void {
    const pending = this.inFlight;
    if (!pending || message.command !== pending.responseCommand) return;
    this.clock.clearTimeout(this.commandTimer);
    this.inFlight = null;
    pending.resolve(message);
    this.pump();
  }

  private failAllCommands(error: Error): void {
    this.clock.clearTimeout(this.commandTimer);
    const all = [...(this.inFlight ? [this.inFlight] : []), ...this.queue.splice(0)];
    this.inFlight = null;
    this.stats.commandsFailed += all.length;
    for (const c of all) c.reject(error);
  }

  private async write(command: number, payload: Uint8Array): Promise<void> {
    const bytes = encodeFrame({ keyType: 0, serial: this.serial, password: this.password, command, payload });
    this.log.trace({ command: commandName(command), bytes: bytes.length }, 'write');
    await this.transport.write(bytes);
  }

  /** A method, not an inline comparison: the phase can change while we await. */
  private isClosed(): boolean {
    return this.phaseValue === 'closed';
  }

  private clearLinkTimers(): void {
    for (const t of [this.staleTimer, this.loginTimer, this.proactiveTimer]) this.clock.clearTimeout(t);
  }

  private setPhase(phase: SessionPhase, detail: string): void {
    if (this.phaseValue === phase && phase !== 'reconnect_wait') return;
    this.phaseValue = phase;
    this.log.debug({ phase, detail }, 'session phase');
    this.events.emit('phase', phase, detail);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function emptyLinkInfo(): TransportInfo {
  return { description: 'unknown link', address: null, localName: null, rssiDbm: null };
}
