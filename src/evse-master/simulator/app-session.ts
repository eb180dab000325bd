/**
 * The charger's side of the app session (§3): beacons while nobody is logged in, 0x8002 → 0x0002,
 * 0x8001 → logged in, then headings/status/charging status on their intervals, and the session
 * dropped when 0x8003 stays missing for `sessionDropAfterMs` (Q4). Optionally held across a BLE
 * drop (Q5). Only timers it needs are pending: none without a link and without a session.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { Cmd } from '../protocol/commands.js';
import type { SimConfig } from './options.js';

/** none: beaconing · authenticated: PIN accepted (0x0002 sent) · logged_in: after 0x8001. */
export type LoginPhase = 'none' | 'authenticated' | 'logged_in';

export interface AppSessionHooks {
  /** Puts a frame on the wire; false when it cannot go out. */
  send(command: number, payload: Uint8Array): boolean;
  linkUp(): boolean;
  loginInfoPayload: Uint8Array;
  statusPayload(): Uint8Array;
  /** Null while not charging (no 0x0005 then). */
  chargingStatusPayload(): Uint8Array | null;
  phaseChanged(phase: LoginPhase, reason: string): void;
}

type TimerName = 'beacon' | 'heading' | 'status' | 'chargingStatus' | 'deadline';
const SESSION_TIMERS = ['heading', 'status', 'chargingStatus', 'deadline'] as const;

export class AppSession {
  private current: LoginPhase = 'none';
  private lastHeadingAckMs = 0;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly clock: Clock;

  constructor(
    private readonly config: SimConfig,
    private readonly hooks: AppSessionHooks,
  ) {
    this.clock = config.clock;
  }

  get phase(): LoginPhase {
    return this.current;
  }

  /** A client connected: beacon unless a session is held (Q5). */
  linkUp(): void {
    if (this.current === 'none') this.scheduleBeacon(this.config.firstBeaconDelayMs);
  }

  linkDown(): void {
    this.stopTimer('beacon');
    if (!this.config.keepSessionAcrossReconnect) this.end('link lost');
  }

  /** 0x8002 with the right PIN. */
  loginRequested(): void {
    this.hooks.send(Cmd.LoginResponse, this.hooks.loginInfoPayload);
    if (this.current !== 'none') return;
    this.setPhase('authenticated', 'PIN accepted');
    this.stopTimer('beacon');
    this.headingAnswered();
  }

  /** 0x8001; true when it completed a login. Strict: only after an accepted 0x8002 or within a session. */
  loginConfirmed(): boolean {
    if (this.current === 'none') return false;
    const { config, hooks } = this;
    this.headingAnswered();
    this.startInterval('heading', config.headingIntervalMs, () => hooks.send(Cmd.Heading, new Uint8Array(0)));
    this.startInterval('status', config.statusIntervalMs, () =>
      hooks.send(Cmd.Status, hooks.statusPayload()),
    );
    this.startInterval('chargingStatus', config.chargingStatusIntervalMs, () => {
      const payload = hooks.chargingStatusPayload();
      if (payload) hooks.send(Cmd.ChargingStatus, payload);
    });
    if (this.current !== 'logged_in') this.setPhase('logged_in', 'login confirmed');
    // A status right after login, as in the evseMQTT log (B6–B8).
    hooks.send(Cmd.Status, hooks.statusPayload());
    return true;
  }

  /** 0x8003 moves the deadline; one timer checks it lazily, so answers cause no timer churn. */
  headingAnswered(): void {
    if (this.current === 'none') return;
    this.lastHeadingAckMs = this.clock.now();
    if (!this.timers.has('deadline')) this.armDeadline();
  }

  /** The session ends; beacons resume if a client is still connected. */
  end(reason: string): void {
    for (const name of SESSION_TIMERS) this.stopTimer(name);
    if (this.current === 'none') return;
    this.setPhase('none', reason);
    if (this.hooks.linkUp()) this.scheduleBeacon(this.config.firstBeaconDelayMs);
  }

  close(): void {
    for (const name of [...this.timers.keys()]) this.stopTimer(name);
    if (this.current !== 'none') this.setPhase('none', 'simulated charger closed');
  }

  private setPhase(phase: LoginPhase, reason: string): void {
    this.current = phase;
    this.hooks.phaseChanged(phase, reason);
  }

  private armDeadline(): void {
    const dueInMs = this.lastHeadingAckMs + this.config.sessionDropAfterMs - this.clock.now();
    this.startTimer('deadline', Math.max(0, dueInMs), () => {
      if (this.clock.now() - this.lastHeadingAckMs >= this.config.sessionDropAfterMs)
        this.end('no heading response');
      else this.armDeadline();
    });
  }

  private scheduleBeacon(delayMs: number): void {
    this.startTimer('beacon', delayMs, () => {
      if (!this.hooks.linkUp() || this.current !== 'none') return;
      this.hooks.send(Cmd.LoginBeacon, this.hooks.loginInfoPayload);
      this.scheduleBeacon(this.config.beaconIntervalMs);
    });
  }

  private startTimer(name: TimerName, delayMs: number, fn: () => void): void {
    this.stopTimer(name);
    this.timers.set(
      name,
      this.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, delayMs),
    );
  }

  private startInterval(name: TimerName, everyMs: number, fn: () => void): void {
    this.stopTimer(name);
    this.timers.set(name, this.clock.setInterval(fn, everyMs));
  }

  private stopTimer(name: TimerName): void {
    const handle = this.timers.get(name);
    if (!handle) return;
    // Timeouts and intervals share one id space in both clocks, and Node clears either kind alike.
    this.clock.clearInterval(handle);
    this.timers.delete(name);
  }
}
